/* metrics.h: an optional Prometheus textfile (node_exporter's textfile
 * collector) with counters and latency histograms.
 *
 * Each program adds to an in-memory tally; metrics_flush() merges it into
 * StateDir/metrics.state under a lock and rewrites MetricsFile atomically,
 * so counts survive across the many short-lived hook processes.
 */
#ifndef SLURM_IDENTITY_METRICS_H
#define SLURM_IDENTITY_METRICS_H

#include <stddef.h>

#include "conf.h"

/* name{labels} += value. labels is "backend=\"opsworks\"" or "". */
void metrics_count(const char *name, const char *labels, double value);
/* name{labels} = value (a gauge: the last writer wins). */
void metrics_gauge(const char *name, const char *labels, double value);
/* A latency in seconds into name's histogram. */
void metrics_observe(const char *name, const char *labels, double seconds);
/* Merge and write; no-op (0) without MetricsFile. */
int metrics_flush(const struct identity_conf *conf, char *err, size_t errlen);

#endif
