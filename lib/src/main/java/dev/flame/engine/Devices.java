package dev.flame.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

import java.util.List;

/**
 * Where the library's tensors live: the CPU (the default) or the first GPU. One choice per process, made by
 * {@link #select} (an experiment's {@code device} field does it); every native-memory manager the library opens comes
 * from {@link #newManager()}, so model weights, LoRA, optimizer state and activations all sit on the selected device.
 *
 * <p>A GPU needs the PyTorch engine's CUDA build (see environment.md, "Using a GPU"); with the CPU-only natives the
 * engine sees no GPU and {@code select("gpu")} says so.
 */
public final class Devices {
    /** Names {@link #select} accepts. */
    public static final List<String> NAMES = List.of("cpu", "gpu");

    private static volatile Device current = Device.cpu();

    private Devices() {
    }

    /**
     * Makes {@code name} ("cpu" or "gpu") the device of every manager opened from now on.
     *
     * @throws IllegalArgumentException for another name, or "gpu" when the engine sees no GPU
     */
    public static Device select(String name) {
        Device d;
        if ("cpu".equals(name)) {
            d = Device.cpu();
        } else if ("gpu".equals(name)) {
            int gpus = Engine.getInstance().getGpuCount();
            if (gpus == 0) {
                throw new IllegalArgumentException("device = gpu is not available: the PyTorch engine ("
                        + Engine.getInstance().getVersion() + ") sees no GPU. Install the CUDA natives as environment.md "
                        + "\"Using a GPU\" says, or use device = cpu");
            }
            d = Device.gpu(0);
        } else {
            throw new IllegalArgumentException("device = " + name + " is not allowed: it must be one of " + NAMES);
        }
        current = d;
        return d;
    }

    /** The selected device (CPU until {@link #select} chooses another). */
    public static Device current() {
        return current;
    }

    /** A new root manager on the selected device; the caller closes it. */
    public static NDManager newManager() {
        return NDManager.newBaseManager(current);
    }
}
