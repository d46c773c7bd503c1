package dev.flame.accounting;

import dev.flame.model.SmoeConfig;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CommModelTest {

    /** d=4, I=6, L=1, H=2, H_kv=1 (hd=2), N=2. */
    private static SmoeConfig tiny() {
        return new SmoeConfig(SmoeConfig.OLMOE, 10, 4, 6, 1, 2, 1, 2, 2, false, 1e-5, 10000.0, 16, false);
    }

    @Test
    void flameRoundTinyByHand() {
        CommModel comm = CommModel.of(tiny(), 2);
        // per expert: gate 2(4+6) + up 2(4+6) + down 2(6+4) = 60 values; 1 layer x 2 experts = 120 values = 480 B
        assertEquals(480, comm.loraBytes());
        assertEquals(4, comm.rescalerBytes());                 // one F32 per layer
        assertEquals(16, comm.activationCountBytes());        // 1 layer x 2 experts x 8 B
        CommModel.Bytes b = comm.flameRound();
        assertEquals(480 + 4, b.down());
        assertEquals(480 + 4 + 16 + 8, b.up());
        assertEquals(484 + 508, b.total());
        assertEquals(new CommModel.Bytes(484 * 3, 508 * 3), b.times(3));
    }

    @Test
    void rankClientTinyByHand() {
        CommModel comm = CommModel.of(tiny(), 2);
        // rank 1: 1(10+10+10) = 30 values per expert x 2 experts = 60 values = 240 B down; up adds the 8-byte example count
        assertEquals(new CommModel.Bytes(240, 248), comm.rankClientRound(1));
        assertEquals(new CommModel.Bytes(480, 488), comm.rankClientRound(2));
        assertEquals(new CommModel.Bytes(0, 8), comm.rankClientRound(0));
        assertThrows(IllegalArgumentException.class, () -> comm.rankClientRound(-1));
    }

    @Test
    void attentionAndTargetsByHand() {
        // down only: 2(6+4) = 20 values/expert, 40 values; attention: q 2(4+4) + k 2(4+2) + v 2(4+2) + o 2(4+4) = 56
        CommModel comm = new CommModel(tiny(), LoraSpec.of(2, Set.of("down"), true));
        assertEquals(4 * (40 + 56), comm.loraBytes());
        assertEquals(new CommModel.Bytes(4 * 96 + 4, 4 * 96 + 4 + 16 + 8), comm.flameRound());
    }

    @Test
    void olmoeFigures() {
        SmoeConfig c = SmoeConfig.olmoe1b7b();
        CommModel comm = CommModel.of(c, 8);
        long values = 16L * 64 * 8 * 3 * (2048 + 1024);
        assertEquals(4 * values, comm.loraBytes());
        assertEquals(new CommModel.Bytes(4 * values + 64, 4 * values + 64 + 8L * 16 * 64 + 8), comm.flameRound());
        System.out.println(comm);
        for (int r : new int[] {8, 4, 2, 1}) {
            System.out.println("OLMoE rank-" + r + " client: " + comm.rankClientRound(r));
        }
    }
}
