/**
 * The {@code ./flame} command line (picocli): one class per command, {@link dev.flame.cli.FlameCli} with the one error
 * handler, and {@link dev.flame.cli.ConsoleProgress} (progress bars and per-round rows).
 */
package dev.flame.cli;
