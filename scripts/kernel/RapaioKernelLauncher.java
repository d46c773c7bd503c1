import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.logging.LogManager;

import org.rapaio.jupyter.kernel.MainApp;
import org.rapaio.jupyter.kernel.channels.AbstractChannel;
import org.rapaio.jupyter.kernel.channels.Channels;
import org.rapaio.jupyter.kernel.channels.LoopThread;
import org.rapaio.jupyter.kernel.core.ConnectionProperties;
import org.rapaio.jupyter.kernel.core.Transform;

/**
 * Starts the rapaio Java kernel 3.0.1 as its own main class does (org.rapaio.jupyter.kernel.MainApp with a connection
 * file), without its two start-up races. Used by the kernelspec "flame-java" that scripts/notebook-setup.sh writes;
 * that script compiles this file into .jupyter/kernel/launcher/ and the kernel runs as
 * {@code java [options] -cp .jupyter/kernel/launcher:<rapaio jar> RapaioKernelLauncher CONNECTION_FILE}.
 *
 * <p>Race 1, the handler table. {@code Channels.connect} binds the kernel's sockets and starts the shell and control
 * loop threads first, and creates and fills its table of message handlers only afterwards. Jupyter clients connect
 * before the kernel binds and send a {@code kernel_info_request} at once, so the first message can arrive while the
 * table is missing: the shell thread dies with a NullPointerException in {@code Channels.getHandler}; or, while the
 * table is being filled, the kernel logs "Unhandled message: kernel_info_request" and drops the request. Here the table
 * is a stand-in until {@code connect} returns: its lookups wait for {@code connect} and then answer from the table
 * {@code connect} built. (A message arriving in the few milliseconds while {@code connect} fills its new table can
 * still be dropped; Jupyter clients repeat the request.)
 *
 * <p>Race 2, the loop threads. {@code LoopThread.start()} starts the thread and only then sets its {@code running}
 * flag; a thread that reads the flag before that ends at once, silently. The shell, control and heartbeat channels each
 * have such a thread; when the shell's is lost (about 1 start in 6 on two busy cores) the kernel never reads a request
 * again, from any connection, although its sockets are bound and connected. Here, for two seconds after
 * {@code connect}, the launcher watches the three loop threads and replaces one that ended (no shutdown having been
 * asked) by a new loop thread with the same body, its flag set before it starts. A lost thread never read a message,
 * so nothing is lost: the requests wait in the socket.
 *
 * <p>Before these fixes, either race left a kernel that never answered: headless runs failed with "Kernel didn't respond
 * in N seconds", and in JupyterLab the first cell stayed at [*].
 */
public final class RapaioKernelLauncher {

    private static final long GUARD_MILLIS = 2000;

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: RapaioKernelLauncher CONNECTION_FILE");
        }
        // The kernel redirects System.out and System.err to the notebook while it runs cells: keep the original stream
        // for what belongs in the kernel's log (Jupyter's server log, or the runner's .log file).
        PrintStream log = System.err;
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
            log.println("RapaioKernelLauncher: thread " + thread.getName() + " died:");
            e.printStackTrace(log);
        });

        // As MainApp.runKernel: the kernel's logging configuration, its connection file, its channels.
        LogManager.getLogManager().readConfiguration(MainApp.class.getClassLoader().getResourceAsStream("logging.properties"));
        Path file = Path.of(args[0]);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("Connection file '" + file + "' isn't a file.");
        }
        ConnectionProperties props = Transform.fromJson(Files.readString(file), ConnectionProperties.class);
        Channels channels = new Channels(props);

        Field handlers = field(Channels.class, "handlers");
        UntilConnected standIn = new UntilConnected(channels, handlers);
        handlers.set(channels, standIn);   // the loop threads start in connect(): Thread.start publishes this write
        try {
            channels.connect(MainApp.kernel);
        } finally {
            standIn.connected.countDown();
        }
        guardLoopThreads(channels, log);
        channels.joinUntilClose();
    }

    /** Race 2: replaces a loop thread of the shell, control or heartbeat channel that ended right after its start. */
    private static void guardLoopThreads(Channels channels, PrintStream log) throws Exception {
        Field loopThread = null;
        Field running = field(LoopThread.class, "running");
        Field body = field(LoopThread.class, "loopBody");
        Field sleep = field(LoopThread.class, "sleep");
        Field closed = field(AbstractChannel.class, "closed");
        String[] names = {"shell", "control", "heartbeat"};
        AbstractChannel[] watched = new AbstractChannel[names.length];
        for (int i = 0; i < names.length; i++) {
            watched[i] = (AbstractChannel) field(Channels.class, names[i]).get(channels);
        }
        long end = System.nanoTime() + GUARD_MILLIS * 1_000_000L;
        while (System.nanoTime() < end) {
            for (int i = 0; i < names.length; i++) {
                AbstractChannel channel = watched[i];
                loopThread = field(channel.getClass(), "loopThread");
                LoopThread thread = (LoopThread) loopThread.get(channel);
                if (thread == null || thread.isAlive() || closed.getBoolean(channel) || channels.isMarkedForShutdown()) {
                    continue;
                }
                LoopThread fresh = new LoopThread(thread.getName(), sleep.getLong(thread), (Runnable) body.get(thread));
                running.setBoolean(fresh, true);   // before start(): this one cannot miss its flag
                loopThread.set(channel, fresh);
                fresh.start();
                log.println("RapaioKernelLauncher: the " + names[i] + " channel's loop thread ended right after its start"
                        + " (the kernel's start-up race); started a new one");
            }
            Thread.sleep(50);
        }
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        Field f = type.getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }

    /** Race 1: the handler table until connect() has built the real one; lookups wait for it, then answer from it. */
    private static final class UntilConnected extends HashMap<Object, Object> {
        private final transient CountDownLatch connected = new CountDownLatch(1);
        private final transient Channels channels;
        private final transient Field field;

        UntilConnected(Channels channels, Field field) {
            this.channels = channels;
            this.field = field;
        }

        @Override
        public Object get(Object key) {
            try {
                connected.await();
                Object table = field.get(channels);
                return table == this ? null : ((Map<?, ?>) table).get(key);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
