/**
 * MNIST for the classic continual-learning benchmarks: an IDX reader ({@link
 * dev.retain.classic.data.Idx}, {@link dev.retain.classic.data.Mnist}) and three task
 * sequences built on it, pure data with no DJL: {@link dev.retain.classic.data.SplitMnist},
 * {@link dev.retain.classic.data.PermutedMnist} and {@link
 * dev.retain.classic.data.RotatedMnist}.
 *
 * <p>Each benchmark is a list of {@link dev.retain.classic.data.Task}s. A task's examples
 * ({@link dev.retain.classic.data.Examples}) are row indices into the shared {@link
 * dev.retain.classic.data.MnistImages} plus a {@link
 * dev.retain.classic.data.PixelTransform} applied when an image is read, so no task copies
 * the data set. Labels depend on the {@link dev.retain.classic.data.Scenario} (van de Ven
 * &amp; Tolias 2019, "Three scenarios for continual learning"): the task knows the label, the
 * output head and the head's width for each.
 */
package dev.retain.classic.data;
