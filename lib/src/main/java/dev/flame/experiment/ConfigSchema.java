package dev.flame.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flame.data.TaskSuite;
import dev.flame.flame.ActivationDenominator;
import dev.flame.lora.LoraTarget;
import dev.flame.rescale.RescalerInit;
import dev.flame.rescale.RescalerMode;
import dev.flame.rescale.RescalerParam;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A JSON Schema (draft 2020-12) of an experiment config, made from {@link ExperimentConfig} itself: every key with its
 * type, its default and, where the value is a name, the names allowed; no other key. Editors use it to complete and
 * check config files; {@code configs/experiment.schema.json} is this schema, and a test keeps the two equal.
 */
public final class ConfigSchema {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ConfigSchema() {
    }

    private static List<String> lower(Enum<?>[] values) {
        return Arrays.stream(values).map(v -> v.name().toLowerCase(Locale.ROOT)).toList();
    }

    /** The names allowed for each key whose value is a name (for arrays: for each element). */
    static Map<String, List<String>> names() {
        return Map.ofEntries(
                Map.entry("method", Method.NAMES),
                Map.entry("partition", ExperimentConfig.PARTITIONS),
                Map.entry("rescaler", lower(RescalerMode.values())),
                Map.entry("rescaler_init", lower(RescalerInit.values())),
                Map.entry("rescaler_param", lower(RescalerParam.values())),
                Map.entry("activation_denominator", lower(ActivationDenominator.values())),
                Map.entry("device", ExperimentConfig.DEVICES),
                Map.entry("task_suite", TaskSuite.SUITES),
                Map.entry("dataset_format", ExperimentConfig.DATASET_FORMATS),
                Map.entry("lora_targets", lower(LoraTarget.values())),
                Map.entry("evaluation", ExperimentConfig.EVALUATIONS),
                Map.entry("executor", ExperimentConfig.EXECUTORS));
    }

    /** The schema. */
    public static ObjectNode schema() {
        ObjectNode s = MAPPER.createObjectNode();
        s.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        s.put("title", "FLAME experiment config");
        s.put("description", "Keys override the defaults of ./flame demo (ExperimentConfig.defaults()); unknown keys "
                + "are rejected.");
        s.put("type", "object");
        s.put("additionalProperties", false);
        ObjectNode props = s.putObject("properties");
        JsonNode defaults = MAPPER.valueToTree(ExperimentConfig.defaults());
        Map<String, List<String>> names = names();
        RecordComponent[] comps = ExperimentConfig.class.getRecordComponents();
        var snake = new com.fasterxml.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy();
        for (RecordComponent c : comps) {
            String key = snake.translate(c.getName());
            ObjectNode p = props.putObject(key);
            Class<?> t = c.getType();
            if (t == int.class || t == long.class) {
                p.put("type", "integer");
            } else if (t == double.class) {
                p.put("type", "number");
            } else if (t == boolean.class) {
                p.put("type", "boolean");
            } else if (t == String.class) {
                p.put("type", "string");
            } else if (List.class.isAssignableFrom(t)) {
                p.put("type", "array");
                String elem = c.getGenericType().getTypeName();
                ObjectNode items = p.putObject("items");
                items.put("type", elem.contains("Integer") ? "integer" : elem.contains("Double") ? "number" : "string");
            } else if (Map.class.isAssignableFrom(t)) {
                p.put("type", "object");
                p.putObject("additionalProperties").put("type", "string");
            }
            List<String> allowed = names.get(key);
            if (allowed != null) {
                ArrayNode e = (p.has("items") ? (ObjectNode) p.get("items") : p).putArray("enum");
                allowed.forEach(e::add);
            }
            p.set("default", defaults.get(key));
        }
        return s;
    }

    /** The schema as the text committed in {@code configs/experiment.schema.json}. */
    public static String text() {
        try {
            return MAPPER.writeValueAsString(schema()) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
