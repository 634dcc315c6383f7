/**
 * The {@code results.json} codec (docs/results-schema.md, schema {@code retain.results/1}):
 * {@link dev.retain.eval.results.ResultsRecorder} writes a language-model run's file as the run
 * goes, {@link dev.retain.eval.results.ClassifierResultsWriter} a classifier run's, and
 * {@link dev.retain.eval.results.ResultsCodec#read} reads either back as a checked
 * {@link dev.retain.eval.results.RunResults} for the reports. The field names are spelled once,
 * in {@code ResultsKeys}.
 */
package dev.retain.eval.results;
