/**
 * Federated clients on Apache Spark ({@code executor: spark}): {@link dev.flame.spark.SparkClientExecutor} runs every
 * sampled client of a round as a Spark task, the round loop stays on the driver.
 */
package dev.flame.spark;
