/*
 * A batch's GET_EAs sent ahead of its other work, together (service_ahead_prepare, _run): on
 * PostgreSQL one statement binds their new names, where each took three round trips and the
 * server's work of starting each statement.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "handlers.h"

bool service_ahead_prepare(struct service *svc, const uint8_t *msg, size_t len,
			   struct service_ahead *a)
{
	struct ipr_ctl_header hdr;
	struct ipr_ctl_fields f;
	struct quota_limits lim;
	const uint8_t *attrs;
	size_t attrs_len;
	int family;
	uint8_t status;
	bool client;

	a->sent = false;
	if (ipr_ctl_decode(msg, len, &hdr, &attrs, &attrs_len) < 0 || hdr.kind != IPR_CTL_GET_EA ||
	    ipr_ctl_fields_parse(attrs, attrs_len, &f, NULL) < 0)
		return false;
	if (handler_get_ea_checked(svc, &f, &a->item.m, &family, &status))
		return false; /* its handler answers why */
	/* an inbound source has quotas of its own (inbound_room) */
	if (strcmp(handler_source(&f, ""), "dataplane") == 0)
		return false;
	a->family_index = handler_family_index(family);
	if (svc->range_full[a->family_index])
		return false;
	client = ipr_ctl_has(&f, IPR_CTL_A_CLIENT);
	a->pool[0] = '\0';
	if (client)
		quota_client_pool(f.client_family, f.client, a->pool);
	handler_new_remote(svc, &f, service_now(), family, client, &a->item.m);
	service_quota_limits(svc, &lim);
	a->item.hold_pool = client ? a->pool : NULL;
	a->item.hold_until = quota_client_hold_until(&a->item.m, &lim);
	return true;
}

/* Requests given to the store in one call: as many as one of its statements carries. */
#define AHEAD_SLICE 64
/*
 * Fewer go the usual way: starting the batch's statement (the PostgreSQL server plans nothing,
 * but runs each of its steps and triggers once) costs more than one request's few statements:
 * one at a time, new names ran at 520-700/s this way and 750-940/s the usual way.
 */
#define AHEAD_MIN 2

bool service_ahead_wanted(struct service *svc)
{
	return store_bind_ahead(svc->store, NULL, NULL, 0) != -ENOTSUP;
}

/* The prepared ones of one family, a slice at a time; 0, or -errno from the store. */
static int run_family(struct service *svc, struct service_ahead *const *aheads, size_t n,
		      int family_index)
{
	char pool[ALLOC_POOL_KEY_MAX];
	struct quota_limits lim;
	struct store_bind_terms terms;
	struct store_bind *items[AHEAD_SLICE];
	size_t k = 0;
	int rc = 0;

	service_quota_limits(svc, &lim);
	alloc_encoded_pool(&svc->range[family_index], pool, sizeof(pool));
	terms = (struct store_bind_terms){
		.pool = pool,
		.family = svc->range[family_index].family,
		.now = service_now(),
		.due_by = service_now() + lim.probation_secs,
		.pool_limit = lim.client_limit,
		.clients_limit = lim.client_total,
	};
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (aheads[i]->family_index == family_index)
			items[k++] = &aheads[i]->item;
		if (k == AHEAD_SLICE || (i + 1 == n && k > 0)) {
			rc = store_bind_ahead(svc->store, &terms, items, k);
			k = 0;
		}
	}
	return rc;
}

int service_ahead_run(struct service *svc, struct service_ahead *const *aheads, size_t n)
{
	if (n < AHEAD_MIN)
		return 0; /* sent is false: the usual way answers */
	for (int family_index = 0; family_index < 2; family_index++)
		if (run_family(svc, aheads, n, family_index) < 0)
			return -EIO;
	for (size_t i = 0; i < n; i++) {
		aheads[i]->sent = true;
		if (aheads[i]->item.outcome == STORE_BIND_USUAL)
			svc->counters.ahead_usual++;
		else
			svc->counters.ahead_answered++;
	}
	return 0;
}
