package dev.flame.lora;

/**
 * The one definition of an expert's LoRA update and its size, used by every strategy, the FLoRA merge and the round
 * trace:
 * <pre>
 *   dW_j = (alpha / r) B_j A_j,      B_j: [d_out, r], A_j: [r, d_in], dW_j: [d_out, d_in]
 *   (dW_j)_{o,i} = (alpha / r) * sum_{q=0}^{r-1} B_j[o, q] A_j[q, i]     (the sum in q order, then the scale)
 * </pre>
 * with r the state's own rank and alpha / r its {@link LoraConfig#scaling()}.
 */
public final class LoraDelta {
    private LoraDelta() {
    }

    /** dW_j of layer l, target t, as [d_out, d_in] row-major doubles. Cost O(d_out d_in r). */
    public static double[] dense(LoraState s, int l, LoraTarget t, int j) {
        int r = s.rank();
        int din = s.inDim(t);
        int dout = s.outDim(t);
        float[] a = s.a(l, t);
        float[] b = s.b(l, t);
        int ao = j * s.aSize(t);
        int bo = j * s.bSize(t);
        double scale = s.config().scaling();
        double[] out = new double[dout * din];
        double[] row = new double[din];
        for (int o = 0; o < dout; o++) {
            productRow(a, ao, b, bo + o * r, r, din, row);
            for (int i = 0; i < din; i++) {
                out[o * din + i] = scale * row[i];
            }
        }
        return out;
    }

    /**
     * dW_j transposed, [d_in, d_out] row-major floats: the layout of the model's stacked expert weights, which the
     * FLoRA merge adds it to.
     */
    public static float[] transposedFloats(LoraState s, int l, LoraTarget t, int j) {
        int din = s.inDim(t);
        int dout = s.outDim(t);
        double[] d = dense(s, l, t, j);
        float[] out = new float[din * dout];
        for (int o = 0; o < dout; o++) {
            for (int i = 0; i < din; i++) {
                out[i * dout + o] = (float) d[o * din + i];
            }
        }
        return out;
    }

    /**
     * ||dW_j||_F computed from the two r x r Gram matrices, in O((d_in + d_out) r^2) without forming the product:
     * <pre>
     *   ||(alpha / r) B A||_F = (alpha / r) sqrt( sum_{p,q} (B^T B)_{pq} (A A^T)_{pq} )
     * </pre>
     * Equal to {@link #normByProduct} up to rounding. The scaling is included, so the value does not change when the
     * LoRA is zero-padded, or truncated with a B rescaling that keeps the product.
     */
    public static double norm(LoraState s, int l, LoraTarget t, int j) {
        int r = s.rank();
        int din = s.inDim(t);
        int dout = s.outDim(t);
        float[] a = s.a(l, t);
        float[] b = s.b(l, t);
        int ao = j * s.aSize(t);
        int bo = j * s.bSize(t);
        double[] ga = new double[r * r];
        double[] gb = new double[r * r];
        for (int p = 0; p < r; p++) {
            for (int q = p; q < r; q++) {
                double sa = 0;
                for (int i = 0; i < din; i++) {
                    sa += (double) a[ao + p * din + i] * a[ao + q * din + i];
                }
                ga[p * r + q] = sa;
                ga[q * r + p] = sa;
            }
        }
        for (int o = 0; o < dout; o++) {
            int row = bo + o * r;
            for (int p = 0; p < r; p++) {
                double bp = b[row + p];
                if (bp == 0) {
                    continue;
                }
                for (int q = 0; q < r; q++) {
                    gb[p * r + q] += bp * b[row + q];
                }
            }
        }
        double sum = 0;
        for (int i = 0; i < r * r; i++) {
            sum += ga[i] * gb[i];
        }
        return s.config().scaling() * Math.sqrt(Math.max(0.0, sum));
    }

    /** ||dW_j||_F by forming dW_j one row at a time (the reference for {@link #norm}; O(d_out d_in r)). */
    public static double normByProduct(LoraState s, int l, LoraTarget t, int j) {
        int r = s.rank();
        int din = s.inDim(t);
        int dout = s.outDim(t);
        float[] a = s.a(l, t);
        float[] b = s.b(l, t);
        int ao = j * s.aSize(t);
        int bo = j * s.bSize(t);
        double sum = 0;
        double[] row = new double[din];
        for (int o = 0; o < dout; o++) {
            productRow(a, ao, b, bo + o * r, r, din, row);
            for (int i = 0; i < din; i++) {
                sum += row[i] * row[i];
            }
        }
        return s.config().scaling() * Math.sqrt(sum);
    }

    /** row[i] = sum_q B[o, q] A[q, i] for one output row o (B's row starts at {@code bRow}); zero B entries skipped. */
    private static void productRow(float[] a, int ao, float[] b, int bRow, int r, int din, double[] row) {
        java.util.Arrays.fill(row, 0);
        for (int q = 0; q < r; q++) {
            double bv = b[bRow + q];
            if (bv == 0) {
                continue;
            }
            int ar = ao + q * din;
            for (int i = 0; i < din; i++) {
                row[i] += bv * a[ar + i];
            }
        }
    }
}
