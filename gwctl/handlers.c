/* What every request handler shares: failing a request, the store failing, a mapping's reply. */
#include <string.h>

#include "handlers.h"
#include "log.h"

int handler_fail(struct request *r, uint8_t status, const char *message)
{
	r->status = status;
	r->message = message;
	return 0;
}

/* A reason naming an address, kept until the reply is built (the daemon is single-threaded). */
char handler_reason[VALIDITY_REASON_MAX];

/* A store error: clean "not found" stays a status, anything else dooms the batch. */
int handler_store_failed(struct request *r, int rc)
{
	r->doomed = true;
	log_warn("store: %s", strerror(-rc));
	return handler_fail(r, IPR_CTL_E_STORE, strerror(-rc));
}

int handler_family_index(int family)
{
	return family == AF_INET ? 0 : 1;
}

static uint32_t ttl_of(const struct ipr_mapping *m, int64_t now)
{
	if (!m->expires)
		return UINT32_MAX;
	if (m->expires <= now)
		return 0;
	return m->expires - now > UINT32_MAX ? UINT32_MAX : (uint32_t)(m->expires - now);
}

void handler_put_mapping(struct request *r, const struct ipr_mapping *m)
{
	ipr_mapping_put(r->reply, m);
	ipr_ctl_put_u32(r->reply, IPR_CTL_A_TTL, ttl_of(m, r->now));
}

const char *handler_source(const struct ipr_ctl_fields *f, const char *fallback)
{
	return ipr_ctl_has(f, IPR_CTL_A_SOURCE) ? f->source : fallback;
}
