package dev.flame.cli;

import dev.flame.experiment.Experiment;
import dev.flame.experiment.RunCheckpoint;
import dev.flame.experiment.RunDirectory;
import dev.flame.fed.GlobalState;
import dev.flame.fed.TierBudget;
import dev.flame.interop.Export;
import dev.flame.lora.LoraState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ./flame export}: a saved run's tier as a merged Hugging Face checkpoint or a PEFT adapter. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Export a saved run's model at one budget tier for the Hugging Face world.",
                "merged: a full checkpoint (config.json, model.safetensors, tokenizer.json) with the LoRA merged, "
                        + "num_experts_per_tok = the tier's k and its rescaler folded into down_proj; transformers' "
                        + "OlmoeForCausalLM loads it as it is.",
                "peft: adapter_config.json + adapter_model.safetensors for PEFT's target_parameters on "
                        + "transformers 5's fused experts (the LoRA alone; PEFT has no rescaler)."})
final class ExportCommand implements Callable<Integer> {
    @Option(names = "--run", required = true, description = "a run directory (its checkpoint.json)")
    Path run;

    @Option(names = "--round", description = "the round to export (default: the latest, the only one a run keeps)")
    Integer round;

    @Option(names = "--format", required = true, description = "merged or peft")
    String format;

    @Option(names = "--tier", description = "the budget tier (default: the largest)")
    Integer tier;

    @Option(names = "--out", required = true, description = "output directory (must not hold files yet)")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (!format.equals("merged") && !format.equals("peft")) {
            throw new IllegalArgumentException("--format = " + format + " is not allowed; use merged or peft");
        }
        RunCheckpoint.Loaded saved = RunCheckpoint.load(run);
        if (round != null && round != saved.round()) {
            throw new IllegalArgumentException("--round = " + round + ": " + run + " keeps the state after its latest "
                    + "round only, round " + saved.round());
        }
        if (Files.isDirectory(out)) {
            try (var s = Files.list(out)) {
                if (s.findAny().isPresent()) {
                    throw new IllegalArgumentException("--out " + out + " is not empty; give a new directory");
                }
            }
        }
        RunDirectory.checkWritable(out, "--out");
        try (Experiment e = RunCheckpoint.resume(saved)) {
            int t = tier != null ? tier : e.config().tiers().stream().mapToInt(Integer::intValue).max().orElseThrow();
            if (!e.config().tiers().contains(t)) {
                throw new IllegalArgumentException("--tier = " + t + " is not a tier of this run; its tiers are "
                        + e.config().tiers());
            }
            TierBudget b = e.budgets().of(t);
            GlobalState s = e.runner().state();
            LoraState lora = e.runner().strategy().evaluationLora(s, b.rank());
            Export.Tier x = new Export.Tier(e.model().config(), e.model().toTensors(), lora, b,
                    e.config().rescalerMode(), s.tierRescalers().get(b.k()));
            Path base = Experiment.resolveModel(e.config().model());
            if (format.equals("merged")) {
                Export.merged(x, out, base.resolve("tokenizer.json"));
            } else {
                Export.peft(x, out, base.toAbsolutePath().toString());
            }
            System.out.printf("exported round %d of %s, tier %d (k = %d, rank %d), as %s into %s%n", saved.round(), run,
                    t, b.k(), b.rank(), format, out);
        }
        return 0;
    }
}
