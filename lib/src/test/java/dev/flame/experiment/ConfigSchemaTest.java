package dev.flame.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The committed schema is the one the code makes, and every shipped config and sweep base satisfies it. */
class ConfigSchemaTest {
    private static final Path HOME = Path.of(System.getProperty("flame.home", ".."));

    @Test
    void committedSchemaIsCurrent() throws Exception {
        assertEquals(ConfigSchema.text(), Files.readString(HOME.resolve("configs/experiment.schema.json")),
                "regenerate with ./flame schema --out configs/experiment.schema.json");
        JsonNode props = ConfigSchema.schema().get("properties");
        assertEquals(ExperimentConfig.class.getRecordComponents().length, props.size(), "every key");
        assertEquals("integer", props.get("lora_rank").get("type").asText());
        assertTrue(props.get("rescaler").get("enum").toString().contains("learned"));
        assertEquals(0.05, props.get("rescaler_learning_rate").get("default").asDouble());
    }

    /** Types and names by hand (what an editor's validator checks), for configs/*.json and configs/sweeps/* bases. */
    @Test
    void shippedConfigsSatisfyTheSchema() throws Exception {
        JsonNode props = ConfigSchema.schema().get("properties");
        ObjectMapper m = new ObjectMapper();
        try (Stream<Path> files = Stream.concat(Files.list(HOME.resolve("configs")), Files.list(HOME.resolve("configs/sweeps")))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json") && !p.endsWith("experiment.schema.json"))
                    .toList()) {
                JsonNode root = m.readTree(f.toFile());
                JsonNode cfg = f.getParent().endsWith("sweeps") ? root.path("base") : root;
                cfg.fields().forEachRemaining(e -> {
                    JsonNode p = props.get(e.getKey());
                    assertTrue(p != null, f + ": key " + e.getKey() + " is not in the schema");
                    JsonNode v = e.getValue();
                    String type = p.get("type").asText();
                    boolean ok = switch (type) {
                        case "integer" -> v.isIntegralNumber();
                        case "number" -> v.isNumber();
                        case "boolean" -> v.isBoolean();
                        case "string" -> v.isTextual();
                        case "object" -> v.isObject() && v.properties().stream().allMatch(x -> x.getValue().isTextual());
                        default -> v.isArray();
                    };
                    assertTrue(ok, f + ": " + e.getKey() + " = " + v + " is not of type " + type);
                    if (p.has("enum")) {
                        assertTrue(p.get("enum").toString().contains("\"" + v.asText() + "\""), f + ": " + e.getKey()
                                + " = " + v + " is not one of " + p.get("enum"));
                    }
                });
            }
        }
    }
}
