package dev.flame.fed;

import java.util.List;

/**
 * A server-side aggregation rule: turns the current global state and the round's client updates into the next
 * global state. Strategies hold configuration only; the round loop lives in {@link RoundRunner}.
 */
public interface Strategy {
    /** Short name used in results ("flame", ...). */
    String name();

    /**
     * The next global state. Must not modify {@code current} or the updates.
     *
     * @param updates the updates that took part (at least one)
     */
    GlobalState aggregate(GlobalState current, List<ClientUpdate> updates);

    /** One line describing the configuration. */
    default String describe() {
        return name();
    }
}
