package dev.flame.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * IID split (labels are ignored): shuffle the examples, then deal them round-robin, so client {@code c} gets shuffled positions
 * {@code c, c + clients, c + 2·clients, ...}. Client sizes differ by at most one; each client's task mix follows the data's.
 */
public final class IidPartitioner implements Partitioner {

    /** Creates the partitioner. */
    public IidPartitioner() {
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException if {@code data} has fewer examples than {@code clients} (a client would be empty)
     */
    @Override
    public <T> List<List<T>> splitBy(List<T> data, Function<? super T, String> label, int clients, SplittableRandom rng) {
        Partitions.check(data, label, clients, rng);
        if (data.size() < clients) {
            throw new IllegalArgumentException("data has " + data.size() + " examples, fewer than clients = " + clients
                    + "; every client needs at least one example");
        }
        List<T> shuffled = new ArrayList<>(data);
        Sampling.shuffle(shuffled, rng);
        List<List<T>> out = new ArrayList<>(clients);
        for (int c = 0; c < clients; c++) {
            out.add(new ArrayList<>(data.size() / clients + 1));
        }
        for (int i = 0; i < shuffled.size(); i++) {
            out.get(i % clients).add(shuffled.get(i));
        }
        return Partitions.freeze(out);
    }

    @Override
    public String describe() {
        return "IID(shuffle, round-robin)";
    }

    @Override
    public String toString() {
        return describe();
    }
}
