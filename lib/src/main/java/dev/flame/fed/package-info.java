/**
 * The federated round, independent of the method: {@link dev.flame.fed.RoundRunner} (sample clients, send them the
 * global state, train locally, aggregate with a {@link dev.flame.fed.Strategy}, evaluate; stepwise, with
 * {@link dev.flame.fed.RoundListener}s, restore for resume, fault injection), {@link dev.flame.fed.Client} and
 * {@link dev.flame.fed.ClientSampler}, budgets ({@link dev.flame.fed.BudgetMap}, {@link dev.flame.fed.TierBudget}: k and
 * rank per tier), and what a round reports ({@link dev.flame.fed.RoundReport}, {@link dev.flame.fed.ClientReport},
 * {@link dev.flame.fed.AggregationTrace}). FLAME's strategy is in {@code dev.flame.flame}, the baselines in
 * {@code dev.flame.fed.baselines}.
 */
package dev.flame.fed;
