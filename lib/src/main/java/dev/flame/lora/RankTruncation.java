package dev.flame.lora;


/**
 * Moving a LoRA between ranks, for every expert of every layer and target: HetLoRA's and FlexLoRA's dispatch
 * ({@link #truncate}) and HetLoRA's return path ({@link #zeroPad}).
 *
 * <p><b>Alpha.</b> alpha is shared by all ranks, so the scaling alpha / r changes with the rank. To keep the
 * <i>update</i> of the components that are kept unchanged, A keeps its rows and B is multiplied by
 * <pre>
 *   c(r_from -&gt; r_to) = (alpha / r_from) / (alpha / r_to) = r_to / r_from
 * </pre>
 * Truncating the rank-r_max global to r_i gives {@code B_i = (r_i / r_max) B[:, :r_i]}, {@code A_i = A[:r_i, :]},
 * whose update {@code (alpha / r_i) B_i A_i} equals the update of the global's first r_i components,
 * {@code (alpha / r_max) B[:, :r_i] A[:r_i, :]}. Zero-padding a rank-r_i client to r_max gives
 * {@code B = [(r_max / r_i) B_i, 0]}, {@code A = [A_i; 0]}, whose update {@code (alpha / r_max) B A} equals the
 * client's {@code (alpha / r_i) B_i A_i}. Truncating and then padding returns the first r_i components unchanged
 * (bit for bit when the ranks are powers of two).
 */
public final class RankTruncation {
    private RankTruncation() {
    }

    /**
     * HetLoRA's dispatch: the first {@code rank} components of every expert,
     * {@code A_i = A[:r_i, :]}, {@code B_i = (r_i / r) B[:, :r_i]} (see the class comment for the factor).
     *
     * @param rank r_i, 1 &lt;= r_i &lt;= global.rank()
     * @return a new state of rank r_i; {@code global} is not modified
     */
    public static LoraState truncate(LoraState global, int rank) {
        if (rank < 1 || rank > global.rank()) {
            throw new IllegalArgumentException("cannot truncate a rank-" + global.rank() + " LoRA to rank " + rank);
        }
        return resize(global, rank);
    }

    /**
     * HetLoRA's return path: a rank-r_i LoRA zero-padded to {@code rank},
     * {@code A = [A_i; 0]}, {@code B = [(r / r_i) B_i, 0]} (see the class comment for the factor).
     *
     * @param rank r_max &gt;= client.rank()
     * @return a new state of rank r_max; {@code client} is not modified
     */
    public static LoraState zeroPad(LoraState client, int rank) {
        if (rank < client.rank()) {
            throw new IllegalArgumentException("cannot zero-pad a rank-" + client.rank() + " LoRA to rank " + rank);
        }
        return resize(client, rank);
    }

    /**
     * The factor on B when a LoRA moves from rank {@code from} to rank {@code to} with the same alpha:
     * {@code (alpha / from) / (alpha / to)}, i.e. {@code to / from}.
     */
    public static double bFactor(double alpha, int from, int to) {
        return LoraConfig.scaling(alpha, from) / LoraConfig.scaling(alpha, to);
    }

    /** The first min(r, rank) components of every expert at rank {@code rank}, B rescaled, the rest zero. */
    static LoraState resize(LoraState s, int rank) {
        int r = s.rank();
        LoraState out = s.zerosWith(s.config().withRank(rank));
        double f = bFactor(s.config().alpha(), r, rank);
        int keep = Math.min(r, rank);
        for (int l = 0; l < s.layers(); l++) {
            for (LoraTarget t : s.targets()) {
                int din = s.inDim(t);
                int dout = s.outDim(t);
                float[] a = s.a(l, t);
                float[] b = s.b(l, t);
                float[] a2 = out.a(l, t);
                float[] b2 = out.b(l, t);
                for (int j = 0; j < s.experts(); j++) {
                    System.arraycopy(a, j * s.aSize(t), a2, j * out.aSize(t), keep * din);
                    int bo = j * s.bSize(t);
                    int bo2 = j * out.bSize(t);
                    for (int o = 0; o < dout; o++) {
                        for (int q = 0; q < keep; q++) {
                            b2[bo2 + o * rank + q] = (float) (f * b[bo + o * r + q]);
                        }
                    }
                }
            }
        }
        return out;
    }
}
