/**
 * Server-side maths of the rank-based baselines FLAME is compared with: FedIT, HetLoRA, FlexLoRA and FLoRA, each
 * applied independently to every expert's LoRA (every layer l, target projection t and expert j).
 *
 * <h2>Conventions shared by every class here</h2>
 * <ul>
 *   <li><b>Update.</b> A LoRA of rank r contributes {@code dW_j = (alpha / r) B_j A_j} to expert j's projection, with
 *   the scaling taken from {@link dev.flame.lora.LoraConfig#scaling(double, int)} at the state's <i>own</i> rank. A
 *   client of rank r_i therefore contributes {@code (alpha / r_i) B_ij A_ij}; no method here uses a fixed scaling.</li>
 *   <li><b>Alpha.</b> alpha is one number shared by every client and the server (all configs are
 *   {@link dev.flame.lora.LoraConfig#withRank(int) withRank} of one config; updates with another alpha are
 *   rejected). When a LoRA changes rank, A keeps its rows and B is multiplied by
 *   {@code (alpha / r_from) / (alpha / r_to) = r_to / r_from}, so that the update of the components kept is the same
 *   before and after ({@link dev.flame.lora.RankTruncation}).</li>
 *   <li><b>Data weights.</b> {@code p_i = |D_i| / sum_k |D_k|} over the clients of the round.</li>
 *   <li><b>Rescalers.</b> The baselines activate all K experts and have no rescalers; every strategy here returns the
 *   current per-tier rescalers unchanged.</li>
 * </ul>
 */
package dev.flame.fed.baselines;
