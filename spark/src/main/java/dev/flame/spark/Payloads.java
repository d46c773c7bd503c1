package dev.flame.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.fed.ClientExecutor.ClientOutcome;
import dev.flame.fed.ClientUpdate;
import dev.flame.fed.GlobalState;
import dev.flame.lora.ExpertShape;
import dev.flame.lora.LoraConfig;
import dev.flame.lora.LoraState;
import dev.flame.lora.LoraTarget;
import dev.flame.model.io.DType;
import dev.flame.model.io.SafeTensors;
import dev.flame.model.io.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What travels between the driver and the executors, as safetensors bytes (float32, so every value comes back
 * bit for bit) with a JSON {@code __metadata__} entry: a round's global state (LoRA and tier rescalers), a client's
 * starting LoRA when the strategy cut one, and a client's outcome (update, activation counts, loss curve, timings, or
 * the error). A LoRA is stored as one tensor per layer, target and factor, in {@link LoraState}'s own stacked layout
 * ({@code layers.l.target.A} of [E, r, d_in], {@code .B} of [E, d_out, r]); values are copied as they are, NaN
 * included, so the driver decides what a non-finite update means, as in process.
 */
final class Payloads {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Payloads() {
    }

    /** A round's global state. */
    static byte[] state(GlobalState s) {
        Map<String, Tensor> t = tensors(s.lora());
        ObjectNode meta = loraMeta(s.lora());
        ObjectNode rescalers = meta.putObject("rescalers");
        s.tierRescalers().forEach((k, v) -> {
            t.put("rescaler." + k, new Tensor(new long[] {v.length}, v.clone()));
            rescalers.put(String.valueOf(k), v.length);
        });
        return encode(t, meta);
    }

    /** Inverse of {@link #state}, for a model of shape {@code shape}. */
    static GlobalState state(byte[] bytes, ExpertShape shape) {
        Decoded d = decode(bytes);
        Map<Integer, float[]> rescalers = new TreeMap<>();
        d.meta.get("rescalers").fieldNames().forEachRemaining(k -> rescalers.put(Integer.parseInt(k),
                d.tensors.get("rescaler." + k).data()));
        return new GlobalState(lora(d, shape), rescalers);
    }

    /** A LoRA alone (a client's truncated start). */
    static byte[] lora(LoraState s) {
        return encode(tensors(s), loraMeta(s));
    }

    static LoraState lora(byte[] bytes, ExpertShape shape) {
        return lora(decode(bytes), shape);
    }

    /** A client's outcome; {@code o.update()} may be null (then the error's text travels). */
    static byte[] outcome(ClientOutcome o) {
        ClientUpdate u = o.update();
        Map<String, Tensor> t = u == null ? new LinkedHashMap<>() : tensors(u.lora());
        ObjectNode meta = u == null ? JSON.createObjectNode() : loraMeta(u.lora());
        meta.put("seconds", o.seconds()).put("worker", o.worker()).put("tokens", o.tokens());
        ArrayNode curve = meta.putArray("loss_curve");
        for (double v : o.lossCurve()) {
            curve.add(v);
        }
        if (o.error() != null) {
            meta.put("error", o.error().toString());
        }
        if (u != null) {
            meta.put("client", u.clientId()).put("k", u.k()).put("local_steps", u.localSteps())
                    .put("examples", u.numExamples());
            t.put("rescaler", new Tensor(new long[] {u.rescaler().length}, u.rescaler().clone()));
            meta.set("activation_counts", JSON.valueToTree(u.activationCounts()));
            meta.set("routed_tokens", JSON.valueToTree(u.routedTokens()));
        }
        return encode(t, meta);
    }

    static ClientOutcome outcome(byte[] bytes, ExpertShape shape) {
        Decoded d = decode(bytes);
        JsonNode m = d.meta;
        double[] curve = JSON.convertValue(m.get("loss_curve"), double[].class);
        double seconds = m.get("seconds").asDouble();
        String worker = m.get("worker").asText();
        if (m.has("error")) {
            return ClientOutcome.failed(new IllegalStateException(m.get("error").asText()), seconds, worker);
        }
        ClientUpdate u = new ClientUpdate(m.get("client").asInt(), m.get("k").asInt(), lora(d, shape),
                d.tensors.get("rescaler").data(), JSON.convertValue(m.get("activation_counts"), long[][].class),
                JSON.convertValue(m.get("routed_tokens"), long[].class), m.get("local_steps").asInt(),
                m.get("examples").asInt());
        return new ClientOutcome(u, curve, m.get("tokens").asLong(), seconds, worker, null);
    }

    private static Map<String, Tensor> tensors(LoraState s) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (int l = 0; l < s.layers(); l++) {
            for (LoraTarget tg : s.targets()) {
                String p = "layers." + l + "." + tg.hfName();
                t.put(p + ".A", new Tensor(new long[] {s.experts(), s.rank(), s.inDim(tg)}, s.a(l, tg).clone()));
                t.put(p + ".B", new Tensor(new long[] {s.experts(), s.outDim(tg), s.rank()}, s.b(l, tg).clone()));
            }
        }
        return t;
    }

    private static ObjectNode loraMeta(LoraState s) {
        ObjectNode meta = JSON.createObjectNode();
        meta.put("rank", s.rank()).put("alpha", s.config().alpha());
        ArrayNode targets = meta.putArray("targets");
        s.targets().forEach(t -> targets.add(t.hfName()));
        return meta;
    }

    private static LoraState lora(Decoded d, ExpertShape shape) {
        EnumSet<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
        d.meta.get("targets").forEach(n -> targets.add(LoraTarget.parse(n.asText())));
        LoraState s = LoraState.zeros(shape, new LoraConfig(d.meta.get("rank").asInt(),
                d.meta.get("alpha").asDouble(), targets));
        for (int l = 0; l < s.layers(); l++) {
            for (LoraTarget tg : s.targets()) {
                String p = "layers." + l + "." + tg.hfName();
                copy(d.tensors, p + ".A", s.a(l, tg));
                copy(d.tensors, p + ".B", s.b(l, tg));
            }
        }
        return s;
    }

    private static void copy(Map<String, Tensor> tensors, String name, float[] into) {
        Tensor t = tensors.get(name);
        if (t == null || t.numel() != into.length) {
            throw new IllegalStateException("payload tensor " + name + " is " + (t == null ? "missing"
                    : "of " + t.numel() + " values, expected " + into.length) + ": driver and executor disagree on "
                    + "the model (check that every executor reads the same model directory)");
        }
        System.arraycopy(t.data(), 0, into, 0, into.length);
    }

    private record Decoded(Map<String, Tensor> tensors, JsonNode meta) {
    }

    /** Safetensors bytes, through a temporary file (the library's reader and writer work on files). */
    private static byte[] encode(Map<String, Tensor> tensors, ObjectNode meta) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile("flame-payload", ".safetensors");
            SafeTensors.write(tmp, tensors, Map.of("flame", JSON.writeValueAsString(meta)), DType.F32);
            return Files.readAllBytes(tmp);
        } catch (IOException e) {
            throw new UncheckedIOException("could not encode a payload in " + tmp, e);
        } finally {
            delete(tmp);
        }
    }

    private static Decoded decode(byte[] bytes) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile("flame-payload", ".safetensors");
            Files.write(tmp, bytes);
            Map<String, Tensor> tensors;
            String meta;
            try (var f = SafeTensors.open(tmp)) {
                tensors = new LinkedHashMap<>();
                for (String n : f.names()) {
                    tensors.put(n, f.read(n));
                }
                meta = f.metadata().get("flame");
            }
            return new Decoded(tensors, JSON.readTree(meta));
        } catch (IOException e) {
            throw new UncheckedIOException("could not decode a payload in " + tmp, e);
        } finally {
            delete(tmp);
        }
    }

    private static void delete(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                // a leftover temporary file is harmless
            }
        }
    }
}
