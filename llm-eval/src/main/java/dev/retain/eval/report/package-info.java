/**
 * Reports of continual runs ({@code retain report}) and of one model's evaluation
 * ({@code retain eval --report}): {@link dev.retain.eval.results.RunResults} holds a run's
 * results.json as read, {@link dev.retain.eval.report.Report} computes every metric once, and
 * {@link dev.retain.eval.report.ReportWriter} writes report.json (docs/report-schema.json),
 * results.csv, report.md and a self-contained report.html with JFreeChart charts.
 */
package dev.retain.eval.report;
