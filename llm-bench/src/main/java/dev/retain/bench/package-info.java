/**
 * {@code retain bench}: what a training step costs against what the machine can do, measured in
 * one process so that ratios compare like with like on a shared machine.
 *
 * <p>{@link dev.retain.bench.Bench} runs the measurements of a {@link
 * dev.retain.bench.BenchSpec}: the float32 matrix-multiply peak of the engine (the ceiling),
 * a {@link dev.retain.bench.BareStep} (forward, cross-entropy, backward, AdamW on one fixed
 * batch: the least any loop can do), the trainer's step for every strategy at the same tokens per
 * step (interleaved in rounds, so that load from other processes falls on all of them alike), the
 * Fisher estimate, evaluation throughput and resident memory over many steps. The result is a
 * {@link dev.retain.bench.BenchReport}: JSON, a table, and every {@link
 * dev.retain.bench.Target} with its status.
 */
package dev.retain.bench;
