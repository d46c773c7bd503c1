/**
 * Experiments from configs: {@link dev.flame.experiment.ExperimentConfig} (every key, validated with the field, value and
 * what is allowed), {@link dev.flame.experiment.Experiment} (a federation built from a config: model, data, clients,
 * tiers, strategy), {@link dev.flame.experiment.Method} (the methods by name), sweeps
 * ({@link dev.flame.experiment.SweepConfig}, {@link dev.flame.experiment.Sweep}: resumable grids),
 * {@link dev.flame.experiment.RunCheckpoint} and {@link dev.flame.experiment.RunDirectory} (a run's saved state and the
 * rules of its output directory), {@link dev.flame.experiment.RescalerProbe} and {@link dev.flame.experiment.PretrainRecipe}.
 */
package dev.flame.experiment;
