/* gwctl stats --prometheus: counters in the Prometheus text exposition format. */
#include "cli_prometheus.h"

#include <string.h>

/*
 * What the components report that is a level, not a running total: the store's and the
 * dataplane's table contents, packets waiting now, offloads on (1) or off (0). A name that
 * ends in a dot covers every name under it. Everything else only grows.
 */
static const char *const gauges[] = {
	"gwctld.mappings.",
	"gwctld.store.bad_rows",
	"dataplane.mappings.remote",
	"dataplane.mappings.local",
	"dataplane.wait.now",
	"dataplane.offload.tun_tso",
	"dataplane.offload.tun_uso",
	"dataplane.offload.udp_gso",
	"dataplane.offload.udp_gro",
	/* what the last start found (docs/store.md, Durability) */
	"gwctld.store.unclean_start",
	"gwctld.store.unclean_start_quarantined",
	"gwctld.store.unclean_start_leases_extended",
};

bool prometheus_is_gauge(const char *name)
{
	for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++) {
		size_t n = strlen(gauges[i]);
		if (gauges[i][n - 1] == '.' ? !strncmp(name, gauges[i], n)
					    : !strcmp(name, gauges[i]))
			return true;
	}
	return false;
}

void prometheus_metric(FILE *out, const char *name, uint64_t value)
{
	bool gauge = prometheus_is_gauge(name);
	char metric[128];
	size_t n = (size_t)snprintf(metric, sizeof(metric), "ipref_");

	/* names follow the project's rule already; anything else a scraper would refuse */
	for (const char *p = name; *p && n + 1 < sizeof(metric); p++) {
		char c = *p;
		metric[n++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
	}
	metric[n] = 0;
	if (!gauge)
		snprintf(metric + n, sizeof(metric) - n, "_total");
	/* HELP text escapes backslash and newline, as the format asks */
	fprintf(out, "# HELP %s ", metric);
	for (const char *p = name; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", out);
		else if (*p == '\n')
			fputs("\\n", out);
		else
			fputc(*p, out);
	}
	fprintf(out, " (gwctl stats)\n# TYPE %s %s\n%s %llu\n", metric, gauge ? "gauge" : "counter",
		metric, (unsigned long long)value);
}
