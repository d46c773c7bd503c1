package dev.flame.experiment;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flame.fed.ClientReport;
import dev.flame.fed.RoundReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** A reduced version of the base-model recipe regenerates a checkpoint that loads and fine-tunes. */
class PretrainRecipeTest {
    @Test
    void reducedRecipeLoadsAndTrains(@TempDir Path dir) throws Exception {
        PretrainRecipe reduced = new PretrainRecipe(60, 32, 3e-3, 5, 100, 32, 32, 1);
        PretrainRecipe.Result r = reduced.run(dir, null);
        double first = avg(r.lossCurve(), 0, 10);
        double last = avg(r.lossCurve(), 50, 60);
        assertTrue(last < first - 0.3, "pretraining loss should fall: " + first + " -> " + last);
        assertTrue(Files.readString(dir.resolve("README.md")).contains("./flame pretrain --steps 60"));
        ExperimentConfig c = ExperimentConfig.fromJson(new ObjectMapper().readTree("{\"model\": \""
                + dir.toString().replace("\\", "\\\\") + "\", \"clients\": 4, \"local_steps\": 16, "
                + "\"train_per_task\": 16, \"test_per_task\": 4, \"batch_size\": 8}"), "test");
        try (Experiment e = Experiment.create(c)) {
            RoundReport round = e.runner().nextRound();
            for (ClientReport cr : round.clients()) {
                assertTrue(cr.ok(), String.valueOf(cr.error()));
                assertTrue(Double.isFinite(cr.loss()));
                double[] lc = cr.lossCurve();
                assertTrue(avg(lc, lc.length - 4, lc.length) < avg(lc, 0, 4),
                        "client " + cr.clientId() + " should reduce its loss");
            }
        }
    }

    private static double avg(double[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += v[i];
        }
        return s / (to - from);
    }
}
