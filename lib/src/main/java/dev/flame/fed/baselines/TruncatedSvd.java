package dev.flame.fed.baselines;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRPDecomposition_F64;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * A thin SVD {@code M = U diag(s) V^T} (s descending, U and V with orthonormal columns) computed with EJML, either
 * of a dense matrix or of a product {@code L R} of thin factors without forming it.
 */
final class TruncatedSvd {
    final int rows;
    final int cols;
    /** Number of singular values kept by the thin SVD. */
    final int m;
    /** [rows, m], row-major. */
    final double[] u;
    /** [m], descending. */
    final double[] s;
    /** [cols, m], row-major. */
    final double[] v;

    private TruncatedSvd(int rows, int cols, DMatrixRMaj u, double[] s, DMatrixRMaj v) {
        this.rows = rows;
        this.cols = cols;
        this.m = s.length;
        this.u = u.data.length == rows * m ? u.data : java.util.Arrays.copyOf(u.data, rows * m);
        this.s = s;
        this.v = v.data.length == cols * m ? v.data : java.util.Arrays.copyOf(v.data, cols * m);
    }

    /** The thin SVD of a dense [rows, cols] row-major matrix (not modified). */
    static TruncatedSvd ofDense(double[] matrix, int rows, int cols) {
        if (matrix.length != rows * cols) {
            throw new IllegalArgumentException("matrix has " + matrix.length + " values, expected " + rows + " x "
                    + cols);
        }
        return svd(new DMatrixRMaj(rows, cols, true, matrix.clone()), rows, cols);
    }

    /**
     * The thin SVD of {@code L R} with L [rows, k] and R [k, cols] (row-major, not modified), in
     * O((rows + cols) k^2): {@code L = Q_l R_l}, {@code R^T = Q_r R_r} (thin QR), {@code R_l R_r^T = U' S V'^T},
     * {@code U = Q_l U'}, {@code V = Q_r V'} (pivoted QR, so rank-deficient factors are fine; the SVD then has as many
     * components as the smaller of the two numerical ranks).
     */
    static TruncatedSvd ofProduct(double[] left, double[] right, int rows, int cols, int k) {
        if (left.length != rows * k || right.length != k * cols) {
            throw new IllegalArgumentException("factor sizes " + left.length + ", " + right.length + " do not match "
                    + rows + " x " + k + " x " + cols);
        }
        DMatrixRMaj[] ql = thinQr(new DMatrixRMaj(rows, k, true, left.clone()));
        DMatrixRMaj rt = new DMatrixRMaj(cols, k);
        CommonOps_DDRM.transpose(new DMatrixRMaj(k, cols, true, right), rt);
        DMatrixRMaj[] qr = thinQr(rt);
        DMatrixRMaj core = new DMatrixRMaj(ql[1].numRows, qr[1].numRows);
        CommonOps_DDRM.multTransB(ql[1], qr[1], core);
        TruncatedSvd inner = svd(core, core.numRows, core.numCols);
        DMatrixRMaj u = new DMatrixRMaj(rows, inner.m);
        CommonOps_DDRM.mult(ql[0], DMatrixRMaj.wrap(core.numRows, inner.m, inner.u), u);
        DMatrixRMaj v = new DMatrixRMaj(cols, inner.m);
        CommonOps_DDRM.mult(qr[0], DMatrixRMaj.wrap(core.numCols, inner.m, inner.v), v);
        return new TruncatedSvd(rows, cols, u, inner.s, v);
    }

    /**
     * {Q, R} of a thin, rank-revealing QR with column pivoting, {@code X = Q R} with Q [n, rank] (orthonormal columns)
     * and R [rank, k] (the pivoting undone, so R is not triangular). Rank-deficient stacks are the normal case: two
     * clients that did not touch an expert both return the same sent factors.
     */
    private static DMatrixRMaj[] thinQr(DMatrixRMaj x) {
        int n = x.numRows;
        int k = x.numCols;
        QRPDecomposition_F64<DMatrixRMaj> qr = DecompositionFactory_DDRM.qrp(n, k);
        if (!qr.decompose(x)) {
            throw new IllegalStateException("QR decomposition failed on a " + n + " x " + k + " matrix");
        }
        int rank = Math.max(1, qr.getRank());
        DMatrixRMaj q = qr.getQ(null, true);
        DMatrixRMaj r = qr.getR(null, true);
        DMatrixRMaj p = qr.getColPivotMatrix(null); // X P = Q R
        DMatrixRMaj rp = new DMatrixRMaj(r.numRows, k);
        CommonOps_DDRM.multTransB(r, p, rp);
        return new DMatrixRMaj[] {CommonOps_DDRM.extract(q, 0, n, 0, rank), CommonOps_DDRM.extract(rp, 0, rank, 0, k)};
    }

    private static TruncatedSvd svd(DMatrixRMaj x, int rows, int cols) {
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(rows, cols, true, true, true);
        if (!svd.decompose(x)) {
            throw new IllegalStateException("SVD did not converge on a " + rows + " x " + cols + " matrix");
        }
        DMatrixRMaj u = svd.getU(null, false);
        DMatrixRMaj v = svd.getV(null, false);
        int m = svd.numberOfSingularValues();
        double[] s = java.util.Arrays.copyOf(svd.getSingularValues(), m);
        SingularOps_DDRM.descendingOrder(u, false, s, m, v, false);
        if (u.numCols != m) {
            u = CommonOps_DDRM.extract(u, 0, rows, 0, m);
        }
        if (v.numCols != m) {
            v = CommonOps_DDRM.extract(v, 0, cols, 0, m);
        }
        return new TruncatedSvd(rows, cols, u, s, v);
    }

    /**
     * Writes the rank-{@code rank} LoRA factors of the best rank-{@code rank} approximation, with the whole scaling
     * in B:
     * <pre>
     *   A = V_r^T                [rank, cols]
     *   B = U_r S_r / scaling    [rows, rank]       so that  scaling * B A = U_r S_r V_r^T
     * </pre>
     * If the thin SVD has fewer than {@code rank} components, the missing rows of A are completed with unit vectors
     * orthogonal to V (from the standard basis, largest residual first) and the matching columns of B are zero, so
     * every component is live (A non-zero, B zero, as a fresh LoRA).
     */
    void writeFactors(int rank, double scaling, float[] a, int aOff, float[] b, int bOff) {
        int keep = Math.min(rank, m);
        for (int q = 0; q < keep; q++) {
            for (int i = 0; i < cols; i++) {
                a[aOff + q * cols + i] = (float) v[i * m + q];
            }
            double sq = s[q] / scaling;
            for (int o = 0; o < rows; o++) {
                b[bOff + o * rank + q] = (float) (u[o * m + q] * sq);
            }
        }
        if (keep == rank) {
            return;
        }
        double[][] basis = new double[rank][];
        for (int q = 0; q < keep; q++) {
            basis[q] = new double[cols];
            for (int i = 0; i < cols; i++) {
                basis[q][i] = v[i * m + q];
            }
        }
        for (int q = keep; q < rank; q++) {
            double[] w = completion(basis, q);
            basis[q] = w;
            for (int i = 0; i < cols; i++) {
                a[aOff + q * cols + i] = (float) w[i];
                // B's column q stays zero
            }
            for (int o = 0; o < rows; o++) {
                b[bOff + o * rank + q] = 0f;
            }
        }
    }

    /** A unit vector orthogonal to basis[0..n), or zeros if they already span the space. */
    private double[] completion(double[][] basis, int n) {
        int best = -1;
        double bestResidual = 1e-8;
        for (int i = 0; i < cols; i++) {
            double r = 1;
            for (int c = 0; c < n; c++) {
                r -= basis[c][i] * basis[c][i];
            }
            if (r > bestResidual) {
                bestResidual = r;
                best = i;
            }
        }
        double[] w = new double[cols];
        if (best < 0) {
            return w;
        }
        w[best] = 1;
        for (int pass = 0; pass < 2; pass++) { // Gram-Schmidt, twice for stability
            for (int c = 0; c < n; c++) {
                double dot = 0;
                for (int i = 0; i < cols; i++) {
                    dot += basis[c][i] * w[i];
                }
                for (int i = 0; i < cols; i++) {
                    w[i] -= dot * basis[c][i];
                }
            }
        }
        double norm = 0;
        for (double x : w) {
            norm += x * x;
        }
        norm = Math.sqrt(norm);
        for (int i = 0; i < cols; i++) {
            w[i] /= norm;
        }
        return w;
    }
}
