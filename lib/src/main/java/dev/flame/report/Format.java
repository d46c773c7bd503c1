package dev.flame.report;

import java.util.Locale;

/** Numbers as notebooks and tables print them (always with a dot as the decimal separator). */
public final class Format {
    private Format() {
    }

    /** A fraction as a percentage with one decimal: 0.1234 -> "12.3%". */
    public static String pct(double fraction) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
    }

    /** {@code x} with {@code digits} decimals. */
    public static String num(double x, int digits) {
        return String.format(Locale.ROOT, "%." + digits + "f", x);
    }

    /** A vector with three decimals: "[1.410, 1.080]". */
    public static String vec(float[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            sb.append(i > 0 ? ", " : "").append(num(v[i], 3));
        }
        return sb.append(']').toString();
    }
}
