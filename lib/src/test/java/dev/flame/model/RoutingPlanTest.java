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
        assertArrayEquals(new long[] {0, 1, 2, 3}, g.get(0).experts());
        assertEquals(2, g.get(0).capacity());
        // rows: expert 0 -> tokens 0,1; expert 1 -> 1,2; expert 2 -> 0,2; expert 3 -> padding (token index 3)
        assertArrayEquals(new long[] {0, 1, 1, 2, 0, 2, 3, 3}, g.get(0).tokenRows());
        long[] rowOf = p.rowOfAssignment();
        long[] rows = g.get(0).tokenRows();
        long[] ids = {2, 0, 0, 1, 2, 1};
        for (int a = 0; a < ids.length; a++) {
            assertEquals(a / 2, rows[(int) rowOf[a]], "assignment " + a + " must read its own token");
            assertEquals(ids[a], rowOf[a] / 2, "assignment " + a + " must sit in its expert's block");
        }
    }

    @Test
    void busyExpertsOverflowIntoASecondBlock() {
        // 5 tokens to expert 3, 1 to expert 1, none to 0 and 2 (k = 1)
        long[] ids = {3, 3, 1, 3, 3, 3};
        RoutingPlan p = RoutingPlan.of(ids, 1, 4);
        List<RoutingPlan.Group> one = p.blocks(1e9);
        assertEquals(1, one.size());
        assertEquals(5, one.get(0).capacity()); // 4 experts x 5 rows
        List<RoutingPlan.Group> two = p.blocks(0);
        assertEquals(2, two.size());
        assertEquals(1, two.get(0).capacity()); // 4 x 1 rows, then expert 3's other 4 tokens
        assertArrayEquals(new long[] {3}, two.get(1).experts());
        assertEquals(4, two.get(1).capacity());
        long[] rows = new long[8];
        System.arraycopy(two.get(0).tokenRows(), 0, rows, 0, 4);
        System.arraycopy(two.get(1).tokenRows(), 0, rows, 4, 4);
        long[] rowOf = p.rowOfAssignment();
        for (int a = 0; a < ids.length; a++) {
            assertEquals(a, rows[(int) rowOf[a]], "assignment " + a + " must read its own token");
        }
    }
}
