package dev.flame.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.ArrayList;
import java.util.List;

/**
 * AdamW with decoupled weight decay, updating parameters in place:
 * <pre>
 *   m = b1 m + (1 - b1) g          v = b2 v + (1 - b2) g^2
 *   p = p - lr * wd * p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * </pre>
 * Moments live in the parameters' manager; temporaries live in a scratch manager closed after every step, and
 * gradients are zeroed after they are used.
 */
public final class AdamW {
    private final List<NDArray> params;
    private final List<NDArray> m = new ArrayList<>();
    private final List<NDArray> v = new ArrayList<>();
    private double lr;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private int t;

    public AdamW(List<NDArray> params, double lr, double weightDecay) {
        this(params, lr, 0.9, 0.999, 1e-8, weightDecay);
    }

    public AdamW(List<NDArray> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        if (!(lr > 0)) {
            throw new IllegalArgumentException("learning rate = " + lr + " must be positive");
        }
        if (weightDecay < 0) {
            throw new IllegalArgumentException("weight decay = " + weightDecay + " must be >= 0");
        }
        this.params = List.copyOf(params);
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        for (NDArray p : this.params) {
            m.add(p.zerosLike());
            v.add(p.zerosLike());
        }
    }

    /**
     * Applies one update from the accumulated gradients, then zeroes them. Each parameter is updated by one call of
     * the PyTorch engine's fused Adam kernel ({@code JniUtils.adamUpdate}, which computes
     * {@code p -= lr·wd·p + c·m / (sqrt(v) + e)}) with {@code c = lr·sqrt(1 - b2^t) / (1 - b1^t)} and
     * {@code e = eps·sqrt(1 - b2^t)}: the formula in the class comment with numerator and denominator multiplied by
     * {@code sqrt(1 - b2^t)}. The gradient is then filled with zeros in place.
     */
    public void step(NDManager parent) {
        t++;
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = Math.sqrt(1 - Math.pow(beta2, t));
        float corrected = (float) (lr * bc2 / bc1);
        float epsT = (float) (eps * bc2);
        try (NDManager s = parent.newSubManager()) {
            for (int i = 0; i < params.size(); i++) {
                NDArray p = params.get(i);
                NDArray g = own(s, p.getGradient());
                JniUtils.adamUpdate((PtNDArray) p, (PtNDArray) g, (PtNDArray) m.get(i), (PtNDArray) v.get(i),
                        (float) lr, corrected, (float) weightDecay, 1f, -1f, (float) beta1, (float) beta2, epsT, true);
                clear(p);
            }
        }
    }

    /**
     * Fills a parameter's gradient with zeros in place, one engine call ({@code JniUtils.zeroGrad}; multiplying by 0
     * would keep a NaN).
     */
    private static void clear(NDArray p) {
        JniUtils.zeroGrad((PtNDArray) p);
    }

    private static NDArray own(NDManager s, NDArray a) {
        a.attach(s);
        return a;
    }

    /**
     * Whether every accumulated gradient is finite, read back with one copy to the host: the sum of every gradient's
     * entries is finite unless one of them is a NaN or an infinity (an infinity plus anything finite stays infinite,
     * and opposite infinities give NaN); only a sum of finite entries beyond the float range (about 3.4e38) is
     * reported non-finite although no entry is, and such a step is not worth applying either.
     */
    public boolean gradientsFinite(NDManager parent) {
        if (params.isEmpty()) {
            return true;
        }
        try (NDManager s = parent.newSubManager()) {
            NDList sums = new NDList(params.size());
            for (NDArray p : params) {
                sums.add(own(s, p.getGradient()).sum());
            }
            return Float.isFinite(NDArrays.stack(sums).sum().getFloat());
        }
    }

    /** Discards the accumulated gradients without updating (after a step that must not count). */
    public void zeroGradients() {
        for (NDArray p : params) {
            clear(p);
        }
    }

    /** Changes the learning rate for the following steps (for schedules). */
    public void setLearningRate(double lr) {
        if (!(lr > 0)) {
            throw new IllegalArgumentException("learning rate = " + lr + " must be positive");
        }
        this.lr = lr;
    }

    /** Steps taken so far. */
    public int steps() {
        return t;
    }
}
