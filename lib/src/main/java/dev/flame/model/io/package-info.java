/**
 * Files of models and runs: safetensors read memory-mapped and written atomically ({@link dev.flame.model.io.SafeTensors},
 * F32/F16/BF16, sharded with an index: {@link dev.flame.model.io.ShardedSafeTensors}), the Hugging Face checkpoint layout
 * with validation against the config ({@link dev.flame.model.io.HfCheckpoint}), a LoRA state as named tensors
 * ({@link dev.flame.model.io.LoraTensors}) and {@link dev.flame.model.io.AtomicFiles} (a temporary sibling, forced to
 * disk, renamed, the directory forced). Every size a file declares is checked before anything is allocated.
 */
package dev.flame.model.io;
