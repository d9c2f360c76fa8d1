/* Who gets a connection slot and keeps it: the per-user share, idle timeouts, sparse logging. */
#ifndef GWCTL_CLIENTS_H
#define GWCTL_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bucket.h"
#include "config.h"

/* Refusals logged: this many at once, then one a second; the rest are counted in the next. */
#define CLIENTS_LOG_BURST 10
#define CLIENTS_LOG_RATE  1

struct clients_log {
	struct ipr_bucket bucket;
	uint64_t unlogged; /* refusals not logged since the last line */
};

/* The connections one user may hold: max-clients-per-user, by default half of max-clients. */
size_t clients_user_share(const struct gwctl_config *cfg);

/*
 * True when a connection last heard from at last_ms has been quiet for idle-timeout. Only
 * connections with nothing to wait for are candidates: the caller leaves out subscribers
 * (the dataplane listens for changes and reports every few seconds) and connections with
 * replies still queued.
 */
bool clients_idle(const struct gwctl_config *cfg, int64_t last_ms, int64_t now_ms);

/* The interval at which idle connections are looked for, in seconds. */
unsigned clients_idle_check_secs(const struct gwctl_config *cfg);

/*
 * Logs one refusal as a warning unless refusals come faster than CLIENTS_LOG_RATE a second
 * (after a burst of CLIENTS_LOG_BURST); a line logged after quiet ones says how many were not.
 */
void clients_log_refusal(struct clients_log *log, int64_t now_ms, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
