/* gwctl stats --prometheus: counters in the Prometheus text exposition format. */
#ifndef GWCTL_CLI_PROMETHEUS_H
#define GWCTL_CLI_PROMETHEUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* True for the names that say how much there is now rather than how often it happened. */
bool prometheus_is_gauge(const char *name);

/*
 * Writes one counter as a metric of its own: "# HELP", "# TYPE" and the sample. The name is
 * "ipref_" and the counter's name with dots as underscores, plus "_total" for a counter.
 */
void prometheus_metric(FILE *out, const char *name, uint64_t value);

#endif
