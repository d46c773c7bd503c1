/**
 * What training and communication cost, analytically: {@link dev.flame.accounting.FlopsModel} (training FLOPs per token
 * at k experts and rank r; a multiply-add is 2 FLOPs), {@link dev.flame.accounting.CommModel} (bytes each way per client
 * and round) and {@link dev.flame.accounting.LoraSpec} (the LoRA a tier trains).
 */
package dev.flame.accounting;
