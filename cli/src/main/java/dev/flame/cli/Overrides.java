package dev.flame.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.util.List;

/**
 * {@code --set key=value} on the command line: each value is read as JSON when it is JSON ({@code 3}, {@code 0.5},
 * {@code true}, {@code [8,4]}, {@code "text"}), else as a string ({@code method=fedit}); later ones win.
 */
final class Overrides {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Overrides() {
    }

    /** The overrides as one JSON object; errors name the malformed argument. */
    static ObjectNode parse(List<String> sets) {
        ObjectNode o = MAPPER.createObjectNode();
        if (sets == null) {
            return o;
        }
        for (String s : sets) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set " + s + " is not key=value (for example --set rounds=3 or "
                        + "--set tiers=[8,1])");
            }
            String key = s.substring(0, eq).trim();
            String value = s.substring(eq + 1);
            JsonNode v;
            try {
                v = MAPPER.readTree(value);
                if (v == null || v.isMissingNode()) {
                    v = TextNode.valueOf(value);
                }
            } catch (JsonProcessingException e) {
                v = TextNode.valueOf(value);
            }
            o.set(key, v);
        }
        return o;
    }
}
