package dev.flame.flame;

import dev.flame.model.Pass;
import dev.flame.rescale.Rescalers;
import dev.flame.rescale.RescalerInit;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.flame.data.Batches;
import dev.flame.data.Example;
import dev.flame.data.PackedBatch;
import dev.flame.engine.Devices;
import dev.flame.model.Routing;
import dev.flame.model.SmoeModel;
import dev.flame.model.TokenBatch;

import java.util.ArrayList;
import java.util.List;

/**
 * Measures the per-layer mass ratio a {@link RescalerInit#MASS_RATIO} rescaler starts from: the router's
 * probabilities of every real token of {@code examples}, from a forward pass of the frozen model at its own top-K
 * (the hidden states the pretrained model expects), fed to {@link Rescalers#calibratedMassRatio}.
 */
public final class MassCalibration {
    private MassCalibration() {
    }

    /** At most this many examples are read (the first ones given). */
    public static final int MAX_EXAMPLES = 256;

    private static final int BATCH = 64;

    /**
     * One calibrated mass ratio per MoE layer for a client activating {@code k} experts.
     *
     * @param examples the calibration data (the tier's clients' training examples)
     */
    public static double[] measure(SmoeModel model, List<Example> examples, int k) {
        int layers = model.config().numHiddenLayers();
        int bigK = model.config().numExpertsPerTok();
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("calibrating the rescaler of k = " + k + " needs training examples");
        }
        List<Example> used = examples.subList(0, Math.min(MAX_EXAMPLES, examples.size()));
        List<List<float[]>> probs = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            probs.add(new ArrayList<>());
        }
        try (NDManager session = Devices.newManager()) {
            for (int from = 0; from < used.size(); from += BATCH) {
                PackedBatch pb = Batches.pack(used.subList(from, Math.min(used.size(), from + BATCH)), 0);
                try (NDManager step = session.newSubManager()) {
                    model.forward(step, new TokenBatch(pb.batch(), pb.seqLen(), pb.tokens(), pb.lengths()),
                            new int[] {0}, Pass.of(Routing.full(model.config())).listening((layer, route) -> {
                                NDArray p = route.probs();
                                int n = (int) p.getShape().get(0);
                                int e = (int) p.getShape().get(1);
                                float[] flat = p.toFloatArray();
                                for (int t = 0; t < n; t++) {
                                    float[] row = new float[e];
                                    System.arraycopy(flat, t * e, row, 0, e);
                                    probs.get(layer).add(row);
                                }
                            }));
                }
            }
        }
        double[] out = new double[layers];
        for (int l = 0; l < layers; l++) {
            out[l] = Rescalers.calibratedMassRatio(probs.get(l).toArray(new float[0][]), k, bigK);
        }
        return out;
    }
}
