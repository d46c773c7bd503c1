package dev.flame.cli;

import dev.flame.model.RandomWeights;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.flame.model.SmoeConfig;
import dev.flame.model.io.DType;
import dev.flame.model.io.HfCheckpoint;
import dev.flame.model.io.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code ./flame forward}: its JSON on the shipped base, its input errors, and (when Debian's {@code /usr/bin/python3}
 * with torch is there) agreement with the independent reference {@code benchmarks/reference_forward.py} on the base and
 * on a random checkpoint with grouped key/value heads, renormalised top-k, tied embeddings, BF16 shards.
 */
class ForwardCommandTest {
    private static final Path HOME = Path.of(System.getProperty("flame.home", ".."));
    private static final Path BASE = HOME.resolve("data").resolve("base");
    private static final Path REFERENCE = HOME.resolve("benchmarks").resolve("reference_forward.py");
    private static final String PYTHON = "/usr/bin/python3";
    /** transformers' own OlmoeForCausalLM, in the environment scripts/hf-setup.sh builds. */
    private static final Path HF_SCRIPT = HOME.resolve("benchmarks").resolve("hf_forward.py");
    private static final String HF_PYTHON = HOME.resolve(".venv-hf").resolve("bin").resolve("python").toString();

    /** Which implementation a cross-check compares with. */
    private record Reference(String python, Path script, String module) {
    }

    private static final Reference PYTORCH = new Reference(PYTHON, REFERENCE, "torch");
    private static final Reference TRANSFORMERS = new Reference(HF_PYTHON, HF_SCRIPT, "transformers");
    /** Largest |logit difference| allowed, relative to the largest |logit| of the reference. */
    private static final double LOGIT_RTOL = 1e-4;
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    @TempDir
    Path tmp;

    private record CliResult(int code, String out, String err) {
    }

    private static CliResult cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = FlameCli.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(args);
        return new CliResult(code, out.toString(), err.toString());
    }

    /** Runs {@code forward --json}; stdout must be exactly one JSON object (trailing content fails the parse). */
    private static JsonNode forwardJson(Path model, String ids, Integer k) throws IOException {
        List<String> args = new ArrayList<>(List.of("forward", "--model", model.toString(), "--ids", ids, "--json"));
        if (k != null) {
            args.addAll(List.of("--top-k", k.toString()));
        }
        CliResult r = cli(args.toArray(String[]::new));
        assertEquals(0, r.code(), "forward " + args + " exit status; stderr: " + r.err());
        JsonNode root = JSON.readTree(r.out());
        assertTrue(root.isObject(), "forward --json stdout is not a JSON object: " + r.out());
        return root;
    }

    /** Shape and range checks of a forward JSON against its config: vocab logits, k experts per layer, gates. */
    private static void checkStructure(String what, JsonNode root, SmoeConfig c, int k) {
        Set<String> keys = new HashSet<>();
        root.fieldNames().forEachRemaining(keys::add);
        assertEquals(Set.of("logits", "experts"), keys, what + ": top-level keys");
        JsonNode logits = root.get("logits");
        assertEquals(c.vocabSize(), logits.size(), what + ": logits length, expected vocab_size = " + c.vocabSize());
        for (int i = 0; i < logits.size(); i++) {
            assertTrue(logits.get(i).isNumber() && Double.isFinite(logits.get(i).asDouble()),
                    what + ": logits[" + i + "] = " + logits.get(i) + " is not a finite number");
        }
        JsonNode experts = root.get("experts");
        assertEquals(c.numHiddenLayers(), experts.size(), what + ": experts entries, expected one per layer");
        for (int l = 0; l < experts.size(); l++) {
            JsonNode e = experts.get(l);
            assertEquals(l, e.get("layer").asInt(), what + ": experts[" + l + "].layer");
            JsonNode ids = e.get("ids");
            JsonNode w = e.get("weights");
            assertEquals(k, ids.size(), what + ": layer " + l + " ids " + ids + ", expected k = " + k);
            assertEquals(k, w.size(), what + ": layer " + l + " weights " + w + ", expected k = " + k);
            Set<Integer> seen = new HashSet<>();
            double sum = 0;
            for (int s = 0; s < k; s++) {
                int id = ids.get(s).asInt();
                assertTrue(id >= 0 && id < c.numExperts(), what + ": layer " + l + " expert id " + id
                        + " outside [0, " + c.numExperts() + ")");
                assertTrue(seen.add(id), what + ": layer " + l + " expert " + id + " selected twice: " + ids);
                double g = w.get(s).asDouble();
                assertTrue(g >= 0 && g <= 1, what + ": layer " + l + " weight " + g + " outside [0, 1]");
                if (s > 0) {
                    assertTrue(g <= w.get(s - 1).asDouble(), what + ": layer " + l + " weights not descending: " + w);
                }
                sum += g;
            }
            assertTrue(sum <= 1 + 1e-5, what + ": layer " + l + " weights sum to " + sum + ", more than 1: " + w);
            if (c.normTopkProb()) {
                assertEquals(1.0, sum, 1e-5, what + ": layer " + l + " weights with norm_topk_prob must sum to 1");
            }
        }
    }

    @Test
    void jsonOnTheShippedBase() throws IOException {
        SmoeConfig c = HfCheckpoint.readConfig(BASE);
        checkStructure("forward --ids 1,5,9 on data/base", forwardJson(BASE, "1,5,9", null), c, c.numExpertsPerTok());
        checkStructure("forward --ids 7 --top-k 2 on data/base", forwardJson(BASE, "7", 2), c, 2);
        JsonNode k1 = forwardJson(BASE, "3, 4,5", 1);
        checkStructure("forward --ids '3, 4,5' --top-k 1 on data/base", k1, c, 1);
        // Without renormalisation, the top-1 gate is the router's largest probability: below 1 for any real router.
        assertTrue(k1.get("experts").get(0).get("weights").get(0).asDouble() < 1.0,
                "top-1 gate of an unrenormalised router must stay below 1: " + k1.get("experts"));
    }

    @Test
    void textReportOnTheShippedBase() {
        CliResult r = cli("forward", "--model", BASE.toString(), "--ids", "1,5,9", "--top", "3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("layer  0:") && r.out().contains("layer  1:"), r.out());
        assertTrue(r.out().contains("the 3 largest"), r.out());
    }

    @Test
    void inputErrorsNameTheValueAndWhatIsAllowed() {
        String base = BASE.toString();
        assertError(List.of("forward", "--model", base, "--ids", "1,64,2"), "token id 64", "0 to 63");
        assertError(List.of("forward", "--model", base, "--ids", "-1"), "token id -1", "0 to 63");
        assertError(List.of("forward", "--model", base, "--ids", ""), "--ids is empty");
        assertError(List.of("forward", "--model", base, "--ids", "1,,2"), "entry 2", "not an integer");
        assertError(List.of("forward", "--model", base, "--ids", "1,x"), "('x')", "not an integer");
        assertError(List.of("forward", "--model", base, "--ids", "1", "--top-k", "0"), "--top-k = 0",
                "[1, num_experts = 16]");
        assertError(List.of("forward", "--model", base, "--ids", "1", "--top-k", "17"), "--top-k = 17",
                "[1, num_experts = 16]");
        String gone = tmp.resolve("gone").toString();
        assertError(List.of("forward", "--model", gone, "--ids", "1"), gone, "no such directory");
        assertError(List.of("forward", "--model", tmp.toString(), "--ids", "1"), "no config.json");
        StringBuilder many = new StringBuilder("0");
        for (int i = 0; i < 64; i++) {
            many.append(",0");
        }
        assertError(List.of("forward", "--model", base, "--ids", many.toString()), "65 tokens",
                "max_position_embeddings = 64");
    }

    private static void assertError(List<String> args, String... fragments) {
        CliResult r = cli(args.toArray(String[]::new));
        assertEquals(2, r.code(), args + ": exit status; stderr: " + r.err());
        assertTrue(r.out().isEmpty(), args + ": nothing on stdout, got: " + r.out());
        assertFalse(r.err().contains("Exception"), args + ": no stack trace: " + r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), args + ": stderr should contain '" + f + "': " + r.err());
        }
    }

    // ------------------------------------------------------------------- cross-check with the PyTorch reference

    @Test
    void agreesWithThePytorchReferenceOnTheBase() throws Exception {
        assumePythonWithTorch();
        crossCheck(BASE, "1,5,9", null);
        crossCheck(BASE, "10,3,3,40,22,17,63,0,5,31,8,12,44,2", 3);
    }

    /**
     * A random checkpoint that exercises what the shipped base does not: 6 query heads over 2 key/value heads,
     * renormalised top-k, tied embeddings, a large rms_norm_eps (0.05, so that where eps goes shows), a non-default
     * RoPE theta, norm weights other than 1, BF16 weights in shards; router, expert and embedding weights scaled up
     * so that routing is decisive and the experts visibly change the logits.
     */
    @Test
    void agreesWithThePytorchReferenceOnGroupedHeadsAndRenormalisedTopK() throws Exception {
        assumePythonWithTorch();
        Path dir = gqaCheckpoint();
        String ids = "5,17,17,2,40,33,9,47,0,21,30,12";
        crossCheck(dir, ids, null);
        crossCheck(dir, ids, 1);
        crossCheck(dir, "44", 8);
    }

    /** The checkpoint of the grouped-heads cross-checks, written once per test into the temporary directory. */
    private Path gqaCheckpoint() throws IOException {
        SmoeConfig c = new SmoeConfig(SmoeConfig.OLMOE, 48, 48, 40, 2, 6, 2, 8, 3, true, 0.05, 500.0, 32, true);
        Map<String, Tensor> w = RandomWeights.of(c, 7);
        SplittableRandom rng = new SplittableRandom(11);
        for (Map.Entry<String, Tensor> e : w.entrySet()) {
            String n = e.getKey();
            float[] v = e.getValue().data();
            if (n.endsWith("norm.weight")) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (0.5 + rng.nextDouble());       // norm weights in [0.5, 1.5)
                }
            } else {
                double scale = n.contains("embed_tokens") ? 25 : n.contains("mlp.gate.") ? 10
                        : n.contains("experts") ? 5 : 1;              // decisive routing, visible experts and logits
                for (int i = 0; i < v.length; i++) {
                    v[i] *= (float) scale;
                }
            }
        }
        Path dir = tmp.resolve("gqa-bf16");
        HfCheckpoint.write(dir, c, w, DType.BF16, 64 * 1024);
        assertTrue(Files.exists(dir.resolve("model.safetensors.index.json")), "expected a sharded checkpoint");
        return dir;
    }

    // ------------------------------------------------------- cross-check with transformers' own OlmoeForCausalLM

    @Test
    void agreesWithTransformersOnTheBase() throws Exception {
        assumeReference(TRANSFORMERS);
        crossCheck(TRANSFORMERS, BASE, "3,17,42,5,8,1,60", null);
        crossCheck(TRANSFORMERS, BASE, "3,17,42,5,8,1,60", 2);
        crossCheck(TRANSFORMERS, BASE, "10,3,3,40,22,17,63,0,5,31,8,12,44,2", 1);
    }

    /** Grouped key/value heads, renormalised top-k, tied embeddings, BF16 shards: {@link #gqaCheckpoint}. */
    @Test
    void agreesWithTransformersOnGroupedHeadsAndRenormalisedTopK() throws Exception {
        assumeReference(TRANSFORMERS);
        Path dir = gqaCheckpoint();
        String ids = "5,17,17,2,40,33,9,47,0,21,30,12";
        crossCheck(TRANSFORMERS, dir, ids, null);
        crossCheck(TRANSFORMERS, dir, ids, 1);
    }

    /**
     * One layer at OLMoE-1B-7B's real widths (hidden 2048, 16 heads, 64 experts of width 1024, top-8; a small
     * vocabulary of 512, which is not a layer dimension), BF16 on disk.
     */
    @Test
    void agreesWithTransformersAtOlmoeLayerSize() throws Exception {
        assumeReference(TRANSFORMERS);
        SmoeConfig c = new SmoeConfig(SmoeConfig.OLMOE, 512, 2048, 1024, 1, 16, 16, 64, 8, false, 1e-5, 10000.0,
                4096, false).withTokenIds(1, 2, 0);
        Path dir = tmp.resolve("olmoe-layer");
        HfCheckpoint.write(dir, c, RandomWeights.of(c, 5), DType.BF16);
        crossCheck(TRANSFORMERS, dir, "7,300,12,511,45,2,99,256", null);
        crossCheck(TRANSFORMERS, dir, "7,300,12,511,45,2,99,256", 1);
    }

    private static void assumePythonWithTorch() throws Exception {
        assumeReference(PYTORCH);
    }

    private static void assumeReference(Reference r) throws Exception {
        assumeTrue(Files.isExecutable(Path.of(r.python())), r.python() + " is not there: cross-check skipped"
                + (r == TRANSFORMERS ? " (scripts/hf-setup.sh builds it)" : ""));
        Process p = new ProcessBuilder(r.python(), "-c", "import " + r.module()).redirectErrorStream(true).start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assumeTrue(done && p.exitValue() == 0, r.python() + " cannot import " + r.module() + ": cross-check skipped");
    }

    private static JsonNode reference(Path model, String ids, Integer k) throws Exception {
        return reference(PYTORCH, model, ids, k);
    }

    private static JsonNode reference(Reference r, Path model, String ids, Integer k) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(r.python(), r.script().toString(), "--model", model.toString(),
                "--ids", ids, "--json", "--threads", "1"));
        if (k != null) {
            cmd.addAll(List.of("--top-k", k.toString()));
        }
        Path out = Files.createTempFile("reference-forward", ".json");
        Path err = Files.createTempFile("reference-forward", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(cmd + " did not finish in 300 s");
            }
            String stderr = Files.readString(err, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), cmd + " exit status; stderr: " + stderr);
            return JSON.readTree(Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** forward --json and the reference agree: logits to LOGIT_RTOL of the largest logit, same experts per layer. */
    private static void crossCheck(Path model, String ids, Integer k) throws Exception {
        crossCheck(PYTORCH, model, ids, k);
    }

    private static void crossCheck(Reference r, Path model, String ids, Integer k) throws Exception {
        SmoeConfig c = HfCheckpoint.readConfig(model);
        int kk = k != null ? k : c.numExpertsPerTok();
        String what = model.getFileName() + " --ids " + ids + " --top-k " + kk + " against " + r.module();
        JsonNode java = forwardJson(model, ids, k);
        JsonNode ref = reference(r, model, ids, k);
        checkStructure("flame forward on " + what, java, c, kk);
        checkStructure(r.script().getFileName() + " on " + what, ref, c, kk);
        JsonNode lj = java.get("logits");
        JsonNode lr = ref.get("logits");
        double scale = 0;
        for (JsonNode v : lr) {
            scale = Math.max(scale, Math.abs(v.asDouble()));
        }
        double worst = -1;
        int at = -1;
        for (int i = 0; i < lr.size(); i++) {
            double d = Math.abs(lj.get(i).asDouble() - lr.get(i).asDouble());
            if (d > worst) {
                worst = d;
                at = i;
            }
        }
        System.out.printf("cross-check %s: max |logit difference| %.3g (%.3g of the largest |logit| %.4g)%n",
                what, worst, worst / scale, scale);
        assertTrue(worst <= LOGIT_RTOL * scale, what + ": logits[" + at + "] = " + lj.get(at) + " (flame) vs "
                + lr.get(at) + " (reference): difference " + worst + " exceeds " + LOGIT_RTOL
                + " x largest |logit| " + scale);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            JsonNode ej = java.get("experts").get(l);
            JsonNode er = ref.get("experts").get(l);
            assertEquals(er.get("ids"), ej.get("ids"), what + ": layer " + l + " expert ids (flame vs reference)");
            for (int s = 0; s < kk; s++) {
                double gj = ej.get("weights").get(s).asDouble();
                double gr = er.get("weights").get(s).asDouble();
                assertEquals(gr, gj, 1e-5, what + ": layer " + l + " weight of expert " + er.get("ids").get(s));
            }
        }
    }
}
