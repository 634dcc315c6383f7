/**
 * Classic continual learning on MNIST task sequences ({@code retain classic}): classifiers built
 * from DJL blocks ({@link dev.retain.classic.Mlp}, {@link
 * dev.retain.classic.ProgressiveNet}), the strategies of {@link
 * dev.retain.classic.Strategy} (naive, joint, EWC and online EWC on the shared {@link
 * dev.retain.train.ewc.EwcPenalty} and {@link dev.retain.train.ewc.Fisher}, replay on the shared
 * {@link dev.retain.train.replay.ReservoirBuffer}, progressive networks, MER, MAML), one seed's
 * run ({@link dev.retain.classic.ClassicTrainer}) and several seeds with results.json
 * ({@link dev.retain.classic.ClassicRun}). The data (IDX reader, Split, Permuted and
 * Rotated MNIST) is in {@link dev.retain.classic.data}. See docs/CLASSIC.md.
 */
package dev.retain.classic;
