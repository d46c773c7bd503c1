/*
 * Milliseconds per training step of one client on the calling thread, split into the forward and backward pass and the
 * optimizer step, on the embedded model and the demo's first training batch (32 x 13 tokens), LoRA r = 8, AdamW.
 * A finer instrument than `./flame bench` for comparing two builds of the library: run it interleaved, several times.
 *
 *   java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1 \
 *        -Dflame.home=. -cp "cli/target/flame-cli.jar:cli/target/deps/*" benchmarks/StepTimes.java K STEPS [PATH [COPIES]]
 *
 * K: top-k (8, 4, 2 or 1); STEPS: untimed steps, then as many timed; PATH: MERGED, BESIDE or AUTO (default), how
 * expert blocks apply their LoRA. COPIES (default 1): the batch repeated that many times in one pass, the work of
 * that many clients with such batches trained together (one LoRA for all: what batching clients could save at best,
 * benchmarks/batching_bound.py); the step time is then also given per copy.
 * Put another build's lib/target/flame-lib.jar first on the class path to time it.
 * With TCMalloc (environment.md) preload it as ./flame does: LD_PRELOAD=.../libtcmalloc_minimal.so.4.
 */

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.flame.data.Batches;
import dev.flame.data.Example;
import dev.flame.data.PackedBatch;
import dev.flame.engine.Devices;
import dev.flame.experiment.Experiment;
import dev.flame.experiment.ExperimentConfig;
import dev.flame.lora.ExpertLora;
import dev.flame.model.Routing;
import dev.flame.model.SmoeModel;
import dev.flame.model.TokenBatch;
import dev.flame.rescale.RescalerMode;
import dev.flame.train.AdamW;
import dev.flame.train.TrainingStep;

import java.util.ArrayList;
import java.util.List;

public class StepTimes {
    /** SmoeModel.setLoraPath by reflection, so that builds from before it compile and run this file too. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static void setLoraPath(SmoeModel model, String name) throws ReflectiveOperationException {
        Class path = Class.forName("dev.flame.model.LoraPath");
        SmoeModel.class.getMethod("setLoraPath", path).invoke(model, Enum.valueOf(path, name));
    }

    public static void main(String[] args) throws Exception {
        int k = Integer.parseInt(args[0]);
        int steps = Integer.parseInt(args[1]);
        ExperimentConfig c = ExperimentConfig.defaults();
        try (Experiment exp = Experiment.create(c)) {
            SmoeModel model = exp.model();
            if (args.length > 2) {
                setLoraPath(model, args[2]);
            }
            int copies = args.length > 3 ? Integer.parseInt(args[3]) : 1;
            List<Example> data = exp.split().train();
            List<Example> batch = new ArrayList<>();
            for (int i = 0; i < copies; i++) {
                batch.addAll(data.subList(0, c.batchSize()));
            }
            PackedBatch pb = Batches.pack(batch, 0);
            TokenBatch tb = new TokenBatch(pb.batch(), pb.seqLen(), pb.tokens(), pb.lengths());
            try (NDManager session = Devices.newManager()) {
                ExpertLora lora = ExpertLora.from(exp.runner().state().lora(), session, true);
                AdamW opt = new AdamW(lora.parameters(), 1e-3, 0);
                Routing routing = new Routing(k, RescalerMode.NONE, null);
                long backward = 0;
                long update = 0;
                for (int s = 0; s < 2 * steps; s++) {
                    try (NDManager step = session.newSubManager()) {
                        long t0 = System.nanoTime();
                        NDArray loss = TrainingStep.backward(step, model, tb, pb.lossPositions(), pb.lossTargets(),
                                () -> routing, lora, null);
                        long t1 = System.nanoTime();
                        opt.step(step);
                        long t2 = System.nanoTime();
                        if (s >= steps) {
                            backward += t1 - t0;
                            update += t2 - t1;
                        }
                        if (s == 2 * steps - 1 && !Float.isFinite(loss.getFloat())) {
                            throw new IllegalStateException("the loss is not finite");
                        }
                    }
                }
                double ms = (backward + update) / 1e6 / steps;
                System.out.printf("k=%d forward+backward %.2f ms, optimizer %.2f ms, step %.2f ms (%d timed steps)%s%n",
                        k, backward / 1e6 / steps, update / 1e6 / steps, ms, steps, copies == 1 ? ""
                                : String.format(", %d copies of the batch (%d x %d tokens): %.2f ms per copy",
                                copies, pb.batch(), pb.seqLen(), ms / copies));
            }
        }
    }
}
