package dev.flame.experiment;

import dev.flame.model.io.LoraTensors;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import dev.flame.eval.EvalReport;
import dev.flame.fed.GlobalState;
import dev.flame.fed.RoundReport;
import dev.flame.lora.LoraConfig;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import dev.flame.model.SmoeConfig;
import dev.flame.model.io.AtomicFiles;
import dev.flame.model.io.DType;
import dev.flame.model.io.HfCheckpoint;
import dev.flame.model.io.SafeTensors;
import dev.flame.model.io.Tensor;
import dev.flame.data.SafeText;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A run's state after a round, kept in a directory so that the run can continue later exactly where it stopped:
 * <pre>
 *   checkpoint.json                 manifest: format, round, config, LoRA config, base evaluation, round history,
 *                                   and the names of the two files below
 *   state-round-NNNN.safetensors    global expert LoRA (PEFT-like names) + one "rescaler.k=K" vector per tier
 *   model-round-NNNN/               only for methods that change the base weights (FLoRA): the model, HF layout
 * </pre>
 * Every file is written atomically and the manifest last, naming files of its own round, after which the previous
 * round's files are deleted. A process killed at any moment therefore leaves a manifest that points at complete files:
 * at most the round in progress is lost.
 *
 * <p>Nothing random needs saving: client sampling and every client's random source are derived from the seed and the
 * round index, so a resumed run continues identically to an uninterrupted one.
 */
public final class RunCheckpoint {
    /** The manifest's file name. */
    public static final String MANIFEST = "checkpoint.json";
    /** Bumped when the layout changes. */
    public static final int FORMAT_VERSION = 1;

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private RunCheckpoint() {
    }

    /** The manifest. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Manifest(int formatVersion, int round, JsonNode config, int loraRank, double loraAlpha,
                           List<String> loraTargets, String stateFile, String modelDir, EvalReport base,
                           List<RoundReport> history) {
    }

    /** What a checkpoint holds, read back. */
    public record Loaded(Manifest manifest, ExperimentConfig config, Map<String, Tensor> state, Path modelDir) {
        /** Rounds completed. */
        public int round() {
            return manifest.round();
        }
    }

    /** Whether {@code dir} holds a checkpoint. */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(MANIFEST));
    }

    /**
     * Saves the experiment's state after its latest round.
     *
     * @param base the base model's evaluation (kept for the final outputs), or null
     */
    public static void save(Path dir, Experiment e, EvalReport base) throws IOException {
        Files.createDirectories(dir);
        Manifest previous = previous(dir);
        int round = e.runner().round();
        GlobalState s = e.runner().state();
        String tag = String.format("round-%04d", round);
        String stateFile = "state-" + tag + ".safetensors";
        Map<String, Tensor> tensors = new LinkedHashMap<>(LoraTensors.toTensors(s.lora()));
        s.tierRescalers().forEach((k, v) -> tensors.put("rescaler.k=" + k, new Tensor(new long[] {v.length}, v)));
        SafeTensors.write(dir.resolve(stateFile), tensors, Map.of("format", "flame-run-state", "round",
                Integer.toString(round), "seed", Long.toString(e.config().seed())), DType.F32);
        String modelDir = null;
        if (e.method() == Method.FLORA) {
            modelDir = "model-" + tag;
            HfCheckpoint.write(dir.resolve(modelDir), e.model().config(), e.model().toTensors(), DType.F32);
        }
        LoraConfig lc = s.lora().config();
        Manifest m = new Manifest(FORMAT_VERSION, round, MAPPER.valueToTree(e.config()), lc.rank(), lc.alpha(),
                lc.targets().stream().map(LoraTarget::hfName).toList(), stateFile, modelDir, base,
                e.runner().history());
        AtomicFiles.write(dir.resolve(MANIFEST), MAPPER.writeValueAsString(m).getBytes(StandardCharsets.UTF_8));
        if (previous != null) {
            // only what the previous manifest says this run wrote, and only inside the run directory
            deleteReplaced(dir, previous.stateFile(), stateFile, "state_file");
            deleteReplaced(dir, previous.modelDir(), modelDir, "model_dir");
        }
    }

    /** The manifest already in {@code dir}, read leniently (null if there is none or it cannot be read). */
    private static Manifest previous(Path dir) {
        Path f = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            return MAPPER.readValue(f.toFile(), Manifest.class);
        } catch (IOException ex) {
            return null;
        }
    }

    private static void deleteReplaced(Path dir, String old, String kept, String field) throws IOException {
        if (old == null || old.equals(kept)) {
            return;
        }
        Path p;
        try {
            p = RunDirectory.confined(dir, old, field, dir.resolve(MANIFEST));
        } catch (IllegalArgumentException notOurs) {
            return;
        }
        RunDirectory.deleteTree(p);
    }

    /** Reads a checkpoint; errors name the file and what is wrong. */
    public static Loaded load(Path dir) throws IOException {
        Path manifestFile = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestFile)) {
            throw new IllegalArgumentException("no checkpoint in " + dir + ": " + MANIFEST + " is missing (a run "
                    + "writes it after every round when given --out)");
        }
        Manifest m;
        try {
            m = MAPPER.readValue(manifestFile.toFile(), Manifest.class);
        } catch (IOException ex) {
            throw new IllegalArgumentException(manifestFile + " is not a valid checkpoint manifest: "
                    + ex.getMessage(), ex);
        }
        if (m.formatVersion() != FORMAT_VERSION) {
            throw new IllegalArgumentException(manifestFile + ": format_version = " + m.formatVersion()
                    + " is not supported (this version reads " + FORMAT_VERSION + ")");
        }
        if (m.stateFile() == null || m.config() == null) {
            throw new IllegalArgumentException(manifestFile + ": state_file and config are required");
        }
        ExperimentConfig config = ExperimentConfig.fromJson(m.config(), manifestFile + " (config)");
        int done = m.history() == null ? 0 : m.history().size();
        if (m.round() < 0 || m.round() != done) {
            throw new IllegalArgumentException(manifestFile + ": round = " + m.round() + " but the history holds "
                    + done + " rounds; they must agree");
        }
        if (m.round() > config.rounds()) {
            throw new IllegalArgumentException(manifestFile + ": round = " + m.round() + " is beyond the config's "
                    + "rounds = " + config.rounds());
        }
        Path stateFile = RunDirectory.confined(dir, m.stateFile(), "state_file", manifestFile);
        Path model = m.modelDir() == null ? null : RunDirectory.confined(dir, m.modelDir(), "model_dir", manifestFile);
        if ((model != null) != (Method.parse(config.method()) == Method.FLORA)) {
            throw new IllegalArgumentException(manifestFile + ": model_dir = " + m.modelDir() + " but method = "
                    + config.method() + (model == null ? " needs its merged model" : " keeps no model"));
        }
        Map<String, String> meta = SafeTensors.open(stateFile).metadata();
        checkMeta(stateFile, meta, "round", Integer.toString(m.round()), manifestFile);
        checkMeta(stateFile, meta, "seed", Long.toString(config.seed()), manifestFile);
        Map<String, Tensor> state = SafeTensors.readAll(stateFile);
        return new Loaded(m, config, state, model);
    }

    /** The state file must have been written for the manifest's round and seed (a file without the key predates it). */
    private static void checkMeta(Path stateFile, Map<String, String> meta, String key, String expected,
                                  Path manifestFile) {
        String v = meta.get(key);
        if (v != null && !v.equals(expected)) {
            throw new IllegalArgumentException(stateFile + " was written for " + key + " " + SafeText.of(v, 40)
                    + " but " + manifestFile + " says " + key + " " + expected + "; the two belong to different runs "
                    + "or rounds");
        }
    }

    /** Every tier's rescaler from the state: present, one finite value per MoE layer, and no tier the config lacks. */
    private static Map<Integer, float[]> rescalers(Loaded c, java.util.Set<Integer> expected, int layers) {
        Map<Integer, float[]> out = new TreeMap<>();
        java.util.Set<Integer> tiers = new java.util.TreeSet<>(expected);
        for (Map.Entry<String, Tensor> t : c.state().entrySet()) {
            String name = t.getKey();
            if (!name.startsWith("rescaler.k=")) {
                continue;
            }
            int k;
            try {
                k = Integer.parseInt(name.substring("rescaler.k=".length()));
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException("state tensor '" + SafeText.of(name, 80) + "' is not a rescaler "
                        + "name (rescaler.k=K)");
            }
            if (!tiers.contains(k)) {
                throw new IllegalArgumentException("state tensor " + name + " is for tier k = " + k + ", which the "
                        + "config's tiers " + tiers + " do not have");
            }
            float[] v = t.getValue().data();
            if (v.length != layers) {
                throw new IllegalArgumentException("state tensor " + name + " has " + v.length + " values, expected "
                        + layers + " (one per MoE layer)");
            }
            for (float x : v) {
                if (!Float.isFinite(x)) {
                    throw new IllegalArgumentException("state tensor " + name + " holds " + x + "; a rescaler must be "
                            + "finite");
                }
            }
            out.put(k, v.clone());
        }
        for (int k : tiers) {
            if (!out.containsKey(k)) {
                throw new IllegalArgumentException("the state has no rescaler for tier k = " + k + " (tensor rescaler.k="
                        + k + ")");
            }
        }
        return out;
    }

    /**
     * Builds the experiment of a checkpoint and puts it where the checkpoint left it: global LoRA and rescalers,
     * round index and history, and (FLoRA) the merged base weights.
     */
    public static Experiment resume(Loaded c) throws IOException {
        Experiment e = Experiment.create(c.config(), null, c.modelDir());
        try {
            SmoeConfig mc = e.model().config();
            EnumSet<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
            c.manifest().loraTargets().forEach(t -> targets.add(LoraTarget.parse(t)));
            LoraConfig lc = new LoraConfig(c.manifest().loraRank(), c.manifest().loraAlpha(), targets);
            LoraState lora = LoraTensors.fromTensors(mc.expertShape(), lc, c.state());
            Map<Integer, float[]> rescalers = rescalers(c, e.runner().state().tierRescalers().keySet(),
                    mc.numHiddenLayers());
            List<RoundReport> history = c.manifest().history() == null ? List.of()
                    : new ArrayList<>(c.manifest().history());
            e.runner().restore(c.round(), new GlobalState(lora, rescalers), history);
            return e;
        } catch (RuntimeException ex) {
            e.close();
            throw ex;
        }
    }
}
