package dev.flame.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --set key=value}: JSON values or text, validated like a config file, refused on resume. */
class OverridesTest {
    @Test
    void valuesAreJsonOrText() {
        JsonNode o = Overrides.parse(List.of("rounds=3", "temperature=0.5", "tiers=[8,1]", "method=fedit",
                "evaluation=[\"tiers\"]", "rounds=4"));
        assertEquals(4, o.get("rounds").asInt(), "later ones win");
        assertEquals(0.5, o.get("temperature").asDouble());
        assertEquals(2, o.get("tiers").size());
        assertEquals("fedit", o.get("method").asText());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Overrides.parse(List.of("rounds")));
        assertTrue(e.getMessage().contains("--set rounds") && e.getMessage().contains("key=value"), e.getMessage());
    }

    @Test
    void aRunTakesThemAndResumeRefusesThem(@TempDir Path tmp) throws Exception {
        Path cfg = Files.writeString(tmp.resolve("c.json"), "{\"clients\": 4, \"local_steps\": 2, \"train_per_task\": 16, "
                + "\"test_per_task\": 4, \"batch_size\": 8}");
        Path out = tmp.resolve("out");
        StringWriter err = new StringWriter();
        int code = FlameCli.commandLine().setOut(new PrintWriter(new StringWriter())).setErr(new PrintWriter(err, true))
                .execute("run", "--config", cfg.toString(), "--out", out.toString(), "--set", "rounds=1", "--set",
                        "temperature=0", "--set", "activation_denominator=routed_activations");
        assertEquals(0, code, err.toString());
        JsonNode config = new ObjectMapper().readTree(out.resolve("results.json").toFile()).get("config");
        assertEquals(1, config.get("rounds").asInt());
        assertEquals(0.0, config.get("temperature").asDouble());
        assertEquals("routed_activations", config.get("activation_denominator").asText());
        err = new StringWriter();
        code = FlameCli.commandLine().setOut(new PrintWriter(new StringWriter())).setErr(new PrintWriter(err, true))
                .execute("run", "--resume", out.toString(), "--set", "rounds=2");
        assertEquals(2, code);
        assertTrue(err.toString().contains("--set cannot change a resumed run"), err.toString());
        err = new StringWriter();
        code = FlameCli.commandLine().setOut(new PrintWriter(new StringWriter())).setErr(new PrintWriter(err, true))
                .execute("run", "--config", cfg.toString(), "--out", tmp.resolve("o2").toString(), "--set",
                        "participation=2");
        assertEquals(2, code);
        assertTrue(err.toString().contains("participation"), err.toString());
    }
}
