package dev.flame.model;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RoutingPlanTest {
    @Test
    void groupsTokensByExpertAndMapsBack() {
        // 3 tokens, k = 2: token 0 -> {2, 0}, token 1 -> {0, 1}, token 2 -> {2, 1}
        RoutingPlan p = RoutingPlan.of(new long[] {2, 0, 0, 1, 2, 1}, 2, 4);
        assertEquals(2, p.count(0));
        assertEquals(2, p.count(1));
        assertEquals(2, p.count(2));
        assertEquals(0, p.count(3));
        assertArrayEquals(new long[] {0, 1, 1, 2, 0, 2}, p.tokenOf());
        List<RoutingPlan.Group> g = p.blocks(1e9);
        assertEquals(1, g.size());
        assertArrayEquals(new long[] {0, 1, 2}, g.get(0).experts()); // expert 3 got no token: not computed
        assertEquals(2, g.get(0).capacity());
        // rows: expert 0 -> tokens 0,1; expert 1 -> 1,2; expert 2 -> 0,2
        assertArrayEquals(new long[] {0, 1, 1, 2, 0, 2}, g.get(0).tokenRows());
        long[] rowOf = p.rowOfAssignment();
        long[] rows = g.get(0).tokenRows();
        long[] ids = {2, 0, 0, 1, 2, 1};
        for (int a = 0; a < ids.length; a++) {
            assertEquals(a / 2, rows[(int) rowOf[a]], "assignment " + a + " must read its own token");
            assertEquals(ids[a], rowOf[a] / 2, "assignment " + a + " must sit in its expert's block");
        }
    }

    @Test
    void blockCostTradesPaddingAgainstBlocks() {
        // k = 1: expert 3 gets 5 tokens, expert 1 gets 1, experts 0 and 2 none
        long[] ids = {3, 3, 1, 3, 3, 3};
        RoutingPlan p = RoutingPlan.of(ids, 1, 4);
        List<RoutingPlan.Group> one = p.blocks(1e9);
        assertEquals(1, one.size());
        assertArrayEquals(new long[] {1, 3}, one.get(0).experts());
        assertEquals(5, one.get(0).capacity()); // 2 experts x 5 rows: 4 of them padding
        assertRowsReadOwnTokens(p, one, ids.length);
        List<RoutingPlan.Group> two = p.blocks(0);
        assertEquals(2, two.size()); // busiest first: expert 3 with 5 rows, then expert 1 with 1, no padding
        assertArrayEquals(new long[] {3}, two.get(0).experts());
        assertEquals(5, two.get(0).capacity());
        assertArrayEquals(new long[] {1}, two.get(1).experts());
        assertEquals(1, two.get(1).capacity());
        assertRowsReadOwnTokens(p, two, ids.length);
        // a block costs 3 rows: splitting saves 4 padded rows, so two blocks still win; at 5 rows one block does
        assertEquals(2, p.blocks(3).size());
        assertEquals(1, p.blocks(5).size());
    }

    @Test
    void blocksMinimisePaddedRowsPlusBlockCost() {
        // counts 9, 8, 2, 1 (k = 1, 20 tokens): with a cost of 4 rows per block the best plan is {9, 8} + {2, 1}:
        // 2*9 + 2*2 + 2*4 = 30 rows, against one block 4*9 + 4 = 40 and four blocks 20 + 16 = 36
        long[] ids = new long[20];
        int[] counts = {9, 8, 2, 1};
        int a = 0;
        for (int e = 0; e < counts.length; e++) {
            for (int i = 0; i < counts[e]; i++) {
                ids[a++] = e;
            }
        }
        RoutingPlan p = RoutingPlan.of(ids, 1, 4);
        List<RoutingPlan.Group> g = p.blocks(4);
        assertEquals(2, g.size());
        assertArrayEquals(new long[] {0, 1}, g.get(0).experts());
        assertEquals(9, g.get(0).capacity());
        assertArrayEquals(new long[] {2, 3}, g.get(1).experts());
        assertEquals(2, g.get(1).capacity());
        assertRowsReadOwnTokens(p, g, ids.length);
    }

    @Test
    void negativeBlockCostIsRejected() {
        RoutingPlan p = RoutingPlan.of(new long[] {0, 1}, 1, 2);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> p.blocks(-1));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("-1"), e.getMessage());
    }

    /** Every assignment's row, in the concatenated blocks, holds its own token. */
    private static void assertRowsReadOwnTokens(RoutingPlan p, List<RoutingPlan.Group> groups, int assignments) {
        int total = groups.stream().mapToInt(g -> g.tokenRows().length).sum();
        long[] rows = new long[total];
        int at = 0;
        for (RoutingPlan.Group g : groups) {
            System.arraycopy(g.tokenRows(), 0, rows, at, g.tokenRows().length);
            at += g.tokenRows().length;
        }
        long[] rowOf = p.rowOfAssignment();
        for (int a = 0; a < assignments; a++) {
            assertEquals(a / p.k(), rows[(int) rowOf[a]], "assignment " + a + " must read its own token");
        }
    }
}
