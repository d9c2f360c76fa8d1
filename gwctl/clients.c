/* Who gets a connection slot and keeps it: the per-user share, idle timeouts, sparse logging. */
#include "clients.h"

#include <stdarg.h>
#include <stdio.h>

#include "log.h"

size_t clients_user_share(const struct gwctl_config *cfg)
{
	size_t share = cfg->max_clients_per_user ? cfg->max_clients_per_user : cfg->max_clients / 2;

	/* one user never holds every slot (unless there is only one), and always gets one */
	if (share >= cfg->max_clients && cfg->max_clients > 1)
		share = cfg->max_clients - 1;
	return share ? share : 1;
}

bool clients_idle(const struct gwctl_config *cfg, int64_t last_ms, int64_t now_ms)
{
	return now_ms - last_ms >= (int64_t)cfg->idle_timeout_secs * 1000;
}

unsigned clients_idle_check_secs(const struct gwctl_config *cfg)
{
	unsigned every = cfg->idle_timeout_secs / 10;

	return every ? every : 1;
}

void clients_log_refusal(struct clients_log *log, int64_t now_ms, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!ipr_bucket_take(&log->bucket, CLIENTS_LOG_RATE, CLIENTS_LOG_BURST, now_ms)) {
		log->unlogged++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log->unlogged)
		log_warn("%s (and %llu more refusals not logged)", line,
			 (unsigned long long)log->unlogged);
	else
		log_warn("%s", line);
	log->unlogged = 0;
}
