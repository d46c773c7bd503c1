/**
 * Everything that touches the tensor engine directly, kept in one place: {@link dev.flame.engine.Devices} (cpu or gpu
 * for every NDManager), {@link dev.flame.engine.EngineArrays} (arrays and scalars copied into engine-owned memory: DJL's
 * PyTorch engine otherwise borrows Java memory, which autograd may outlive), {@link dev.flame.engine.GradientScope}
 * (a backward pass recorded for the calling thread only, so clients can train at the same time) and
 * {@link dev.flame.engine.ClientThreads} with {@link dev.flame.engine.Parallelism} (kept worker threads, each with its
 * own engine thread counts, for clients or tiers run side by side).
 */
package dev.flame.engine;
