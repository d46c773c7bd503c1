package dev.flame.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.List;

/**
 * The expert LoRA of one client as trainable DJL tensors, living in a manager owned by the caller (one local-training
 * session). Stacked per layer and target: A [N, r, d_in], B [N, d_out, r].
 */
public final class ExpertLora {
    private final LoraState layout;
    private final NDArray[] a;
    private final NDArray[] b;
    private final float scaling;

    private ExpertLora(LoraState layout, NDArray[] a, NDArray[] b) {
        this.layout = layout;
        this.a = a;
        this.b = b;
        this.scaling = (float) layout.config().scaling();
    }

    /** Copies a {@link LoraState} into trainable tensors of {@code manager}. */
    public static ExpertLora from(LoraState state, NDManager manager, boolean trainable) {
        List<LoraTarget> ts = state.targets();
        int n = state.layers() * ts.size();
        NDArray[] a = new NDArray[n];
        NDArray[] b = new NDArray[n];
        int r = state.rank();
        for (int l = 0; l < state.layers(); l++) {
            for (int ti = 0; ti < ts.size(); ti++) {
                LoraTarget t = ts.get(ti);
                a[l * ts.size() + ti] = owned(manager, state.a(l, t), new Shape(state.experts(), r, state.inDim(t)));
                b[l * ts.size() + ti] = owned(manager, state.b(l, t), new Shape(state.experts(), state.outDim(t), r));
                if (trainable) {
                    a[l * ts.size() + ti].setRequiresGradient(true);
                    b[l * ts.size() + ti].setRequiresGradient(true);
                }
            }
        }
        return new ExpertLora(state, a, b);
    }

    /**
     * A tensor whose memory belongs to the engine. DJL's PyTorch engine wraps Java-created CPU data without copying
     * (the tensor borrows a direct buffer kept alive only by its Java wrapper), so trainable tensors, whose storage is
     * shared with autograd and optimizer state, are copied into engine-owned memory.
     */
    static NDArray owned(NDManager manager, float[] data, Shape shape) {
        return dev.flame.engine.EngineArrays.of(manager, data, shape);
    }

    /** Whether target t carries a LoRA. */
    public boolean has(LoraTarget t) {
        return layout.targets().contains(t);
    }

    /** Stacked A of layer l and target t, [N, r, d_in]. */
    public NDArray a(int l, LoraTarget t) {
        return a[l * layout.targets().size() + layout.targets().indexOf(t)];
    }

    /** Stacked B of layer l and target t, [N, d_out, r]. */
    public NDArray b(int l, LoraTarget t) {
        return b[l * layout.targets().size() + layout.targets().indexOf(t)];
    }

    /** alpha / r as a float, from {@link LoraConfig#scaling()}. */
    public float scaling() {
        return scaling;
    }

    /** Every trainable tensor. */
    public List<NDArray> parameters() {
        List<NDArray> p = new ArrayList<>(a.length * 2);
        for (int i = 0; i < a.length; i++) {
            p.add(a[i]);
            p.add(b[i]);
        }
        return p;
    }

    /** Copies the current values back into a new {@link LoraState}. */
    public LoraState toState() {
        LoraState s = layout.copy();
        for (int l = 0; l < s.layers(); l++) {
            for (LoraTarget t : s.targets()) {
                float[] av = a(l, t).toFloatArray();
                float[] bv = b(l, t).toFloatArray();
                System.arraycopy(av, 0, s.a(l, t), 0, av.length);
                System.arraycopy(bv, 0, s.b(l, t), 0, bv.length);
            }
        }
        return s;
    }
}
