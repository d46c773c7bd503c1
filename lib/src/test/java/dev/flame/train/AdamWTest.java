package dev.flame.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.flame.engine.Devices;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** AdamW's engine update against the formula of its class comment, computed here in double precision. */
class AdamWTest {

    @Test
    void fiveStepsMatchTheFormulaWithAndWithoutWeightDecay() {
        for (double wd : new double[] {0.0, 0.1}) {
            SplittableRandom rng = new SplittableRandom(5);
            int n = 7;
            double[] p = new double[n];
            double[][] grads = new double[5][n];
            for (int i = 0; i < n; i++) {
                p[i] = rng.nextDouble() * 2 - 1;
            }
            for (double[] g : grads) {
                for (int i = 0; i < n; i++) {
                    g[i] = rng.nextDouble() * 4 - 2;
                }
            }
            double lr = 0.01;
            double b1 = 0.9;
            double b2 = 0.999;
            double eps = 1e-8;
            float[] got;
            try (NDManager m = Devices.newManager()) {
                NDArray param = m.create(toFloat(p));
                param.setRequiresGradient(true);
                AdamW opt = new AdamW(List.of(param), lr, b1, b2, eps, wd);
                for (double[] g : grads) {
                    try (NDManager step = m.newSubManager()) {
                        NDArray c = step.create(toFloat(g));
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            gc.backward(param.mul(c).sum()); // d/dp sum(p * c) = c
                        }
                        opt.step(step);
                    }
                }
                got = param.toFloatArray();
                // the gradient was zeroed after the last step
                assertEquals(0f, param.getGradient().abs().sum().getFloat());
            }
            double[] mom = new double[n];
            double[] vel = new double[n];
            for (int t = 1; t <= grads.length; t++) {
                for (int i = 0; i < n; i++) {
                    double g = grads[t - 1][i];
                    mom[i] = b1 * mom[i] + (1 - b1) * g;
                    vel[i] = b2 * vel[i] + (1 - b2) * g * g;
                    double mHat = mom[i] / (1 - Math.pow(b1, t));
                    double vHat = vel[i] / (1 - Math.pow(b2, t));
                    p[i] = p[i] - lr * wd * p[i] - lr * mHat / (Math.sqrt(vHat) + eps);
                }
            }
            for (int i = 0; i < n; i++) {
                assertEquals(p[i], got[i], 1e-6, "wd = " + wd + ", parameter " + i);
            }
        }
    }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
    /** The finiteness check sees a NaN or an infinity in any parameter's gradient; zeroing clears even a NaN. */
    @Test
    void gradientsFiniteSeesNanAndInfinityAndZeroingClearsThem() {
        float[][] cases = {{1f, -2f, 3f}, {1f, Float.NaN, 3f}, {Float.POSITIVE_INFINITY, 0f, 1f},
            {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f}};
        boolean[] finite = {true, false, false, false};
        for (int c = 0; c < cases.length; c++) {
            try (NDManager m = Devices.newManager()) {
                NDArray a = m.create(new float[] {0.5f, 0.5f});
                NDArray b = m.create(new float[] {1f, 1f, 1f});
                a.setRequiresGradient(true);
                b.setRequiresGradient(true);
                AdamW opt = new AdamW(List.of(a, b), 0.01, 0.0);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    // d/da = 1 each; d/db = the case's values
                    gc.backward(a.sum().add(b.mul(m.create(cases[c])).sum()));
                }
                assertEquals(finite[c], opt.gradientsFinite(m), "case " + c);
                opt.zeroGradients();
                assertEquals(0f, b.getGradient().abs().sum().getFloat(), "case " + c + " zeroed");
                assertEquals(true, opt.gradientsFinite(m));
            }
        }
    }
}
