package dev.flame.interop;

/**
 * Where PEFT keeps one expert's LoRA when it wraps a fused [E, out, in] experts parameter (target_parameters), the
 * one definition {@link Export} writes and {@link PeftImport} reads: with adapter rank R,
 * <pre>
 *   lora_A.weight [R·E, in]:   expert e's component q is row e·R + q
 *   lora_B.weight [out, R·E]:  B_e[o, q] is at o·R·E + q·E + e
 * </pre>
 */
final class FusedLayout {
    private FusedLayout() {
    }

    /** The flat offset of row (expert {@code e}, component {@code q}) of A, whose rows are {@code in} wide. */
    static int aRow(int e, int q, int rank, int in) {
        return (e * rank + q) * in;
    }

    /** The flat index of B_e[o, q] among {@code experts} experts of adapter rank {@code rank}. */
    static int b(int o, int q, int e, int rank, int experts) {
        return o * rank * experts + q * experts + e;
    }
}
