/**
 * Continual-learning metrics over a score matrix {@code R[k][j]} (score of task j after training
 * stage k, row 0 = the base model), for accuracy-like scores and for mean NLL alike:
 * {@link dev.retain.eval.metrics.ForgettingMetrics} (average final score, forgetting, BWT, FWT,
 * learning-curve area, plasticity), {@link dev.retain.eval.metrics.BaselineComparison} (against
 * naive fine-tuning), {@link dev.retain.eval.metrics.StabilityGap} (from continual-evaluation
 * curves), {@link dev.retain.eval.metrics.DriftMap} (where the weights moved) and
 * {@link dev.retain.eval.metrics.Cost}. {@link dev.retain.eval.metrics.Definition} holds every
 * formula as the reports print it.
 */
package dev.retain.eval.metrics;
