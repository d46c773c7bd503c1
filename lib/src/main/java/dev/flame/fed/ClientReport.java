package dev.flame.fed;

/**
 * One client's part of a round, as reported.
 *
 * @param clientId         the client
 * @param k                the client's budget tier (for FLAME, the experts it activates per token)
 * @param rank             the rank of the LoRA it sent back (the rank it trained, unless it pruned its rank)
 * @param numExamples      |D_i|
 * @param loss             mean training loss over the round's local steps (NaN if it failed)
 * @param lossCurve        training loss at every local step
 * @param activationCounts a_i^{l,j} [layer][expert]
 * @param flops            analytic training FLOPs of the client's local work this round
 * @param bytesDown        bytes sent to the client
 * @param bytesUp          bytes sent back by the client
 * @param seconds          wall time of its local training
 * @param error            why the client's update was left out, or null
 * @param rescaler         the tier's rescaler as the client trained it (one scale per MoE layer), or null
 * @param worker           where it trained ({@code "in process"}, a Spark executor's id and host), or null if unknown
 */
public record ClientReport(int clientId, int k, int rank, int numExamples, double loss, double[] lossCurve,
                           long[][] activationCounts, double flops, long bytesDown, long bytesUp, double seconds,
                           String error, float[] rescaler, String worker) {
    /** A report that does not say where the client trained. */
    public ClientReport(int clientId, int k, int rank, int numExamples, double loss, double[] lossCurve,
                        long[][] activationCounts, double flops, long bytesDown, long bytesUp, double seconds,
                        String error, float[] rescaler) {
        this(clientId, k, rank, numExamples, loss, lossCurve, activationCounts, flops, bytesDown, bytesUp, seconds,
                error, rescaler, null);
    }

    /** A report without the trained rescaler. */
    public ClientReport(int clientId, int k, int rank, int numExamples, double loss, double[] lossCurve,
                        long[][] activationCounts, double flops, long bytesDown, long bytesUp, double seconds,
                        String error) {
        this(clientId, k, rank, numExamples, loss, lossCurve, activationCounts, flops, bytesDown, bytesUp, seconds,
                error, null);
    }

    /** Whether the update took part in aggregation. */
    public boolean ok() {
        return error == null;
    }


    /** A one-line summary (arrays as their values or sizes, not as {@code [D@...}). */
    @Override
    public String toString() {
        return "ClientReport[client=" + clientId + ", k=" + k + ", rank=" + rank + ", examples=" + numExamples
                + ", loss=" + loss + ", steps=" + (lossCurve == null ? 0 : lossCurve.length) + ", counts="
                + dev.flame.fed.ClientUpdate.describe(activationCounts) + ", rescaler=" + java.util.Arrays.toString(rescaler)
                + (worker == null ? "" : ", worker=" + worker) + (error == null ? "" : ", error=" + error) + "]";
    }
}
