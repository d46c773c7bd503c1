package dev.flame.data;

/**
 * Text from files and users made safe to print: control characters (terminal escape codes among them) are shown as
 * {@code \\u}XXXX escapes instead of being sent to the terminal, and a long value is shortened in the middle with the
 * number of characters left out, so that one bad name cannot flood a console or an error line.
 */
public final class SafeText {
    /** The default length limit of {@link #of(String)}, in characters. */
    public static final int DEFAULT_MAX = 2000;

    private SafeText() {
    }

    /** {@link #of(String, int)} with {@link #DEFAULT_MAX}. */
    public static String of(String s) {
        return of(s, DEFAULT_MAX);
    }

    /**
     * The printable form of {@code s}: every control character except newline and tab (C0, DEL and C1) as
     * {@code \\u}XXXX; if longer than {@code max}, its first and last {@code max/2} characters around
     * {@code …(N characters left out)…}. Null prints as {@code null}.
     */
    public static String of(String s, int max) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), max) + 16);
        int n = s.length();
        int head = n > max ? max / 2 : n;
        int tailFrom = n > max ? n - max / 2 : n;
        for (int i = 0; i < head; i++) {
            append(b, s.charAt(i));
        }
        if (n > max) {
            b.append("…(").append(tailFrom - head).append(" characters left out)…");
            for (int i = tailFrom; i < n; i++) {
                append(b, s.charAt(i));
            }
        }
        return b.toString();
    }

    private static void append(StringBuilder b, char c) {
        boolean control = (c < 0x20 && c != '\n' && c != '\t') || (c >= 0x7f && c <= 0x9f);
        if (control) {
            b.append(String.format("\\u%04x", (int) c));
        } else {
            b.append(c);
        }
    }
}
