/**
 * Classic continual learning on MNIST task sequences ({@code retain classic}): classifiers built
 * from DJL blocks ({@link dev.retain.train.classic.Mlp}, {@link
 * dev.retain.train.classic.ProgressiveNet}), the strategies of {@link
 * dev.retain.train.classic.Strategy} (naive, joint, EWC and online EWC on the shared {@link
 * dev.retain.train.ewc.EwcPenalty} and {@link dev.retain.train.ewc.Fisher}, replay on the shared
 * {@link dev.retain.train.replay.ReservoirBuffer}, progressive networks, MER, MAML), one seed's
 * run ({@link dev.retain.train.classic.ClassicTrainer}) and several seeds with results.json
 * ({@link dev.retain.train.classic.ClassicRun}). The data (IDX reader, Split, Permuted and
 * Rotated MNIST) is in {@link dev.retain.train.classic.data}. See docs/CLASSIC.md.
 */
package dev.retain.train.classic;
