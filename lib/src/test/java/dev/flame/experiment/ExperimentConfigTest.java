package dev.flame.experiment;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExperimentConfigTest {
    private static ExperimentConfig parse(String json) throws Exception {
        return ExperimentConfig.fromJson(new ObjectMapper().readTree(json), "test");
    }

    @Test
    void keysOverrideDefaults() throws Exception {
        ExperimentConfig c = parse("{\"rounds\": 3, \"temperature\": 0}");
        assertEquals(3, c.rounds());
        assertEquals(0.0, c.temperature());
        assertEquals(ExperimentConfig.defaults().clients(), c.clients());
    }

    @Test
    void jsonRoundTrip() throws Exception {
        ExperimentConfig d = ExperimentConfig.defaults();
        assertEquals(d, parse(d.toJson()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"roundz\": 3}|roundz",
            "{\"participation\": 1.5}|participation",
            "{\"participation\": 0}|participation",
            "{\"temperature\": -1}|temperature",
            "{\"tier_mix\": [0.5, 0.5, 0.5, 0.5]}|tier_mix",
            "{\"tiers\": [8, 4], \"tier_mix\": [0.5, 0.25, 0.25]}|tier_mix",
            "{\"rescaler\": \"magic\"}|rescaler",
            "{\"partition\": \"random\"}|partition",
            "{\"lora_targets\": [\"q_proj\"]}|lora_targets",
            "{\"clients\": \"many\"}|clients",
            "{\"activation_denominator\": \"bytes\"}|activation_denominator",
            "{\"batch_size\": 0}|batch_size"})
    void badValuesNameTheField(String json, String field) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(json));
        assertTrue(e.getMessage().contains(field), e.getMessage());
    }

    @Test
    void tierAboveModelTopKIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Experiment.create(parse("{\"tiers\": [16], \"tier_mix\": [1.0]}")));
        assertTrue(e.getMessage().contains("tiers"), e.getMessage());
    }

    @Test
    void missingFileAndBrokenJson(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assertThrows(IllegalArgumentException.class, () -> ExperimentConfig.load(dir.resolve("nope.json")));
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"rounds\": ");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExperimentConfig.load(bad));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
    }

    /** client_threads 0: one client per core, at most the clients of a round, the cores shared out; 1 on a GPU. */
    @ParameterizedTest
    @CsvSource({
            // client_threads, participation, device, cores -> clients at once, threads each
            "0, 1.0, cpu, 2, 2, 1",
            "0, 1.0, cpu, 16, 8, 2",
            "0, 0.25, cpu, 16, 2, 8",
            "0, 1.0, cpu, 1, 1, 1",
            "1, 1.0, cpu, 2, 1, 2",
            "3, 1.0, cpu, 2, 3, 1",
            "20, 1.0, cpu, 4, 8, 1",
            "0, 1.0, gpu, 16, 1, 16"})
    void parallelismFollowsCoresAndClients(int clientThreads, double participation, String device, int cores,
                                           int clients, int threads) {
        ExperimentConfig c = ExperimentConfig.defaults().with("client_threads", clientThreads)
                .with("participation", participation).with("device", device);
        dev.flame.engine.Parallelism p = c.parallelism(cores);
        assertEquals(clients, p.workers(), "clients at once");
        assertEquals(threads, p.threadsPerWorker(), "threads per client");
    }

    @Test
    void builderSetsTypedKeysAndValidatesLikeAFile() throws Exception {
        ExperimentConfig c = ExperimentConfig.builder().setMethod(Method.FEDIT).setRounds(3).setTemperature(0)
                .setTiers(8, 2).set("tier_mix", java.util.List.of(0.5, 0.5))
                .setRescaler(dev.flame.rescale.RescalerMode.FIXED_K_OVER_KI)
                .setActivationDenominator(dev.flame.flame.ActivationDenominator.ROUTED_ACTIVATIONS).build();
        ExperimentConfig same = ExperimentConfig.fromJson(new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                "{\"method\": \"fedit\", \"rounds\": 3, \"temperature\": 0.0, \"tiers\": [8, 2], "
                        + "\"tier_mix\": [0.5, 0.5], \"rescaler\": \"fixed_k_over_ki\", "
                        + "\"activation_denominator\": \"routed_activations\"}"), "test");
        assertEquals(same, c);
        assertEquals(Method.FEDIT, c.methodValue());
        assertEquals(dev.flame.flame.ActivationDenominator.ROUTED_ACTIVATIONS, c.activationDenominatorValue());
        assertEquals(c, c.toBuilder().build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ExperimentConfig.builder().setParticipation(2).build());
        assertTrue(e.getMessage().contains("participation"), e.getMessage());
        assertEquals(ExperimentConfig.defaults(), ExperimentConfig.builder().build());
    }
}
