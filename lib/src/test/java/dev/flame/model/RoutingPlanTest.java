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
        List<RoutingPlan.Group> g = p.groups(1);
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
    void severalGroupsSkipIdleExperts() {
        RoutingPlan p = RoutingPlan.of(new long[] {3, 3, 3, 1}, 1, 4);
        List<RoutingPlan.Group> g = p.groups(2);
        assertEquals(2, g.size());
        assertArrayEquals(new long[] {3}, g.get(0).experts());
        assertEquals(3, g.get(0).capacity());
        assertArrayEquals(new long[] {1}, g.get(1).experts());
        assertEquals(1, g.get(1).capacity());
    }
}
