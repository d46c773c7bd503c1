package dev.flame.experiment;

import dev.flame.fed.RoundReport;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's Java API example, line for line (on a smaller federation), and that the README still shows it. */
class ApiExampleTest {
    @Test
    void theReadmeExampleRunsAndMeansWhatItSays() throws Exception {
        ExperimentConfig config = FederationTest.small(3).toBuilder().setRounds(2).build();
        double[] w = null;
        float[] s;
        try (Experiment exp = Experiment.create(config)) {
            System.out.println(exp.summary());
            for (int r = 0; r < config.rounds(); r++) {
                RoundReport round = exp.runner().nextRound();
                System.out.println(round.eval().tierAccuracy());
                w = round.trace().weights()[0][3];
                assertEquals(config.tiers().size(), round.eval().tierAccuracy().size());
            }
            s = exp.runner().state().tierRescalers().get(1);
        }
        assertEquals(config.clients(), w.length, "one weight per aggregated client");
        double sum = 0;
        for (double x : w) {
            sum += x;
        }
        assertTrue(sum == 0 || Math.abs(sum - 1) < 1e-9, "normalised weights (or an expert nobody used): " + sum);
        assertEquals(2, s.length, "one scale per MoE layer of the embedded model");

        String readme = Files.readString(Path.of(System.getProperty("flame.home", "..")).resolve("README.md"));
        for (String line : new String[] {"ExperimentConfig.builder().setRounds(3).build()", "Experiment.create(config)", "exp.runner().nextRound()",
                "round.eval().tierAccuracy()", "round.trace().weights()[0][3]",
                "exp.runner().state().tierRescalers().get(1)"}) {
            assertTrue(readme.contains(line), "README shows " + line);
        }
    }
}
