package dev.flame.lora;


import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The LoRA of every expert of every MoE layer, held as plain Java arrays (what the server stores, averages and sends).
 *
 * <p>For each layer l and target projection t the A matrices of all N experts are stacked into one array of shape
 * [N, r, d_in] and the B matrices into [N, d_out, r] (row-major), so expert j's A is the slice
 * {@code [j*r*d_in, (j+1)*r*d_in)}. The update of expert j's projection is {@code (alpha/r) B_j A_j}.
 */
public final class LoraState {
    private final LoraConfig config;
    private final int layers;
    private final int experts;
    private final int hidden;
    private final int intermediate;
    private final List<LoraTarget> targets;
    private final float[][] a;
    private final float[][] b;

    private LoraState(LoraConfig config, int layers, int experts, int hidden, int intermediate, float[][] a, float[][] b) {
        this.config = config;
        this.layers = layers;
        this.experts = experts;
        this.hidden = hidden;
        this.intermediate = intermediate;
        List<LoraTarget> ts = new ArrayList<>(config.targets());
        Collections.sort(ts);
        this.targets = List.copyOf(ts);
        this.a = a;
        this.b = b;
    }

    /** All-zero A and B for the given model. */
    public static LoraState zeros(ExpertShape model, LoraConfig config) {
        return allocate(config, model.layers(), model.experts(), model.hidden(), model.intermediate());
    }

    /**
     * All-zero A and B for the same model shape as this state (layers, experts, dimensions) under another config,
     * e.g. another rank: what rank-heterogeneous federated methods need to build a client's or the server's LoRA.
     */
    public LoraState zerosWith(LoraConfig other) {
        return allocate(other, layers, experts, hidden, intermediate);
    }

    private static LoraState allocate(LoraConfig config, int layers, int experts, int hidden, int intermediate) {
        int nt = config.targets().size();
        float[][] a = new float[layers * nt][];
        float[][] b = new float[layers * nt][];
        LoraState s = new LoraState(config, layers, experts, hidden, intermediate, a, b);
        for (int l = 0; l < s.layers; l++) {
            for (int ti = 0; ti < nt; ti++) {
                LoraTarget t = s.targets.get(ti);
                a[l * nt + ti] = new float[s.experts * config.rank() * s.inDim(t)];
                b[l * nt + ti] = new float[s.experts * s.outDim(t) * config.rank()];
            }
        }
        return s;
    }

    /**
     * FLAME's initialisation: A uniform in [-1/sqrt(d_in), 1/sqrt(d_in)] (Kaiming-uniform with a = sqrt(5), as for a
     * Linear layer), B = 0, so that the adapted model starts equal to the base model.
     */
    public static LoraState init(ExpertShape model, LoraConfig config, SplittableRandom rng) {
        return randomA(zeros(model, config), rng);
    }

    /**
     * A freshly initialised LoRA (as {@link #init}) for the same model shape as this state under another config:
     * what FLoRA's clients start every round from.
     */
    public LoraState initWith(LoraConfig other, SplittableRandom rng) {
        return randomA(zerosWith(other), rng);
    }

    private static LoraState randomA(LoraState s, SplittableRandom rng) {
        for (int l = 0; l < s.layers; l++) {
            for (LoraTarget t : s.targets) {
                float[] arr = s.a(l, t);
                double bound = 1.0 / Math.sqrt(s.inDim(t));
                for (int i = 0; i < arr.length; i++) {
                    arr[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
                }
            }
        }
        return s;
    }

    public LoraConfig config() {
        return config;
    }

    public int layers() {
        return layers;
    }

    public int experts() {
        return experts;
    }

    public int rank() {
        return config.rank();
    }

    /** Target projections in a fixed order. */
    public List<LoraTarget> targets() {
        return targets;
    }

    /** d_in of a target: hidden size for gate and up, intermediate size for down. */
    public int inDim(LoraTarget t) {
        return t == LoraTarget.DOWN ? intermediate : hidden;
    }

    /** d_out of a target: intermediate size for gate and up, hidden size for down. */
    public int outDim(LoraTarget t) {
        return t == LoraTarget.DOWN ? hidden : intermediate;
    }

    /** Stacked A of layer l, target t: shape [N, r, d_in], live (not a copy). */
    public float[] a(int l, LoraTarget t) {
        return a[index(l, t)];
    }

    /** Stacked B of layer l, target t: shape [N, d_out, r], live (not a copy). */
    public float[] b(int l, LoraTarget t) {
        return b[index(l, t)];
    }

    /** Values per expert in a stacked A of target t: r * d_in. */
    public int aSize(LoraTarget t) {
        return config.rank() * inDim(t);
    }

    /** Values per expert in a stacked B of target t: d_out * r. */
    public int bSize(LoraTarget t) {
        return outDim(t) * config.rank();
    }

    private int index(int l, LoraTarget t) {
        int ti = targets.indexOf(t);
        if (ti < 0 || l < 0 || l >= layers) {
            throw new IllegalArgumentException("no LoRA for layer " + l + " target " + t + " (layers " + layers
                    + ", targets " + targets + ")");
        }
        return l * targets.size() + ti;
    }

    /** A deep copy. */
    public LoraState copy() {
        float[][] a2 = new float[a.length][];
        float[][] b2 = new float[b.length][];
        for (int i = 0; i < a.length; i++) {
            a2[i] = a[i].clone();
            b2[i] = b[i].clone();
        }
        return new LoraState(config, layers, experts, hidden, intermediate, a2, b2);
    }

    /** Number of trainable values (A and B of every expert, layer and target). */
    public long parameterCount() {
        long n = 0;
        for (int i = 0; i < a.length; i++) {
            n += a[i].length + b[i].length;
        }
        return n;
    }

    /** Whether every value is finite. */
    public boolean isFinite() {
        for (int i = 0; i < a.length; i++) {
            for (float v : a[i]) {
                if (!Float.isFinite(v)) {
                    return false;
                }
            }
            for (float v : b[i]) {
                if (!Float.isFinite(v)) {
                    return false;
                }
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "LoraState[layers=" + layers + ", experts=" + experts + ", rank=" + rank() + ", targets=" + targets
                + ", params=" + parameterCount() + "]";
    }
}
