/* The administration handlers: LIST, MAP and UNMAP (STATS and STATUS: handlers_status.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "handlers.h"

/* LIST: one page of MAPPING nests per request; CURSOR and the MORE flag say where to go on. */
int handle_list(struct request *r)
{
	struct ipr_mapping page[64];
	uint64_t cursor = ipr_ctl_has(r->f, IPR_CTL_A_CURSOR) ? r->f->cursor : 0;
	int n = store_list(r->svc->store, &cursor, page, sizeof(page) / sizeof(page[0]));

	if (n < 0)
		return handler_store_failed(r, n);
	for (int i = 0; i < n; i++) {
		size_t mark = ipr_ctl_nest_begin(r->reply, IPR_CTL_A_MAPPING);
		handler_put_mapping(r, &page[i]);
		ipr_ctl_nest_end(r->reply, mark);
	}
	if (n == (int)(sizeof(page) / sizeof(page[0]))) {
		ipr_ctl_set_flags(r->reply, IPR_CTL_F_MORE);
		ipr_ctl_put_u64(r->reply, IPR_CTL_A_CURSOR, cursor);
	}
	return 0;
}

/* Checks a hand-made mapping against the ranges it must respect. */
static const char *map_problem(const struct service *svc, const struct ipr_mapping *m)
{
	if (ipr_ref_is_null(&m->ref))
		return "reference 0 is the null reference";
	if (m->kind == IPR_MAP_STATIC_EXTERNAL) {
		int i = handler_family_index(m->family);
		enum ipr_prefix_place place =
			svc->has_range[i] ? ipr_prefix_place(&svc->range[i], m->family, m->address)
					  : IPR_PREFIX_OUTSIDE;

		/* the same addresses the allocator and a hosts file may use, no others */
		if (place == IPR_PREFIX_OUTSIDE)
			return "the encoded address is outside the encoded range";
		if (place == IPR_PREFIX_NETWORK)
			return "the encoded address is the network address of the encoded range";
		if (place == IPR_PREFIX_GATEWAY)
			return "the encoded address is the gateway's own address in the encoded "
			       "range";
		if (place == IPR_PREFIX_BROADCAST)
			return "the encoded address is the broadcast address of the encoded range";
		if (m->context.kind == IPR_CONTEXT_NAME)
			return "a static mapping needs the context as an address";
		return NULL;
	}
	if (m->kind == IPR_MAP_PUBLISHED)
		return ipr_ref_use_text(ipr_ref_use_of(&m->ref, &svc->cfg.dynamic_ref_min,
						       &svc->cfg.dynamic_ref_max));
	return "only static external and published mappings are made by hand";
}

/*
 * The addresses of a hand-made mapping, by the rule GET_EA and GET_REF follow: a static
 * mapping's context must be able to be a remote gateway, a published host a local host under
 * one of our contexts. Contexts given as IPv4-mapped IPv6 become IPv4 in m.
 */
static const char *map_address_problem(const struct service *svc, struct ipr_mapping *m)
{
	struct ipr_site site;

	validity_site(&svc->cfg, &site);
	if (m->kind == IPR_MAP_STATIC_EXTERNAL)
		return validity_remote_context(&site, &m->context, handler_reason);
	if (m->kind != IPR_MAP_PUBLISHED)
		return NULL; /* map_problem refuses the other kinds */
	if (validity_local_host(&site, m->family, m->address, handler_reason))
		return handler_reason;
	return validity_our_context(&site, &m->context, handler_reason);
}

int handle_map(struct request *r)
{
	struct service *svc = r->svc;
	struct ipr_mapping m;
	const char *problem;
	int rc;

	if (ipr_mapping_from_fields(r->f, &m) < 0)
		return handler_fail(r, IPR_CTL_E_INVALID,
				    "MAP needs MAP_KIND, the address, context and REF");
	problem = map_address_problem(svc, &m);
	if (problem)
		return handler_fail(r, IPR_CTL_E_UNUSABLE, problem);
	problem = map_problem(svc, &m);
	if (problem)
		return handler_fail(r, IPR_CTL_E_INVALID, problem);
	m.expires = 0;
	snprintf(m.source, sizeof(m.source), "%.*s", IPR_MAPPING_SOURCE_MAX,
		 handler_source(r->f, "cli"));
	rc = store_insert(svc->store, &m);
	if (rc == -EEXIST)
		return handler_fail(r, IPR_CTL_E_CONFLICT,
				    "the address or reference is already mapped");
	if (rc < 0)
		return handler_store_failed(r, rc);
	service_record(svc, IPR_CTL_EV_ADDED, &m);
	handler_put_mapping(r, &m);
	return 0;
}

/* UNMAP by ENCODED (remote kinds) or REF (local kinds). Dynamic values go to quarantine. */
int handle_unmap(struct request *r)
{
	struct service *svc = r->svc;
	struct ipr_mapping m;
	int rc;

	if (ipr_ctl_has(r->f, IPR_CTL_A_ENCODED))
		rc = store_find_encoded(svc->store, r->f->encoded_family, r->f->encoded, &m);
	else if (ipr_ctl_has(r->f, IPR_CTL_A_REF))
		rc = store_find_ref(svc->store, &r->f->ref, &m);
	else
		return handler_fail(r, IPR_CTL_E_INVALID, "UNMAP needs ENCODED or REF");
	if (rc == -ENOENT)
		return handler_fail(r, IPR_CTL_E_NOT_FOUND, NULL);
	if (rc < 0)
		return handler_store_failed(r, rc);
	if (m.source[0] == '/')
		return handler_fail(
			r, IPR_CTL_E_DENIED,
			"this mapping comes from a published source: change the file instead");
	int64_t hold_until = 0;
	/* a probation value unmapped by hand stops counting as live; it rests the full quarantine
	 */
	rc = quota_release(svc->store, &m, r->now, &hold_until);
	if (rc >= 0)
		rc = store_delete(svc->store, &m,
				  m.expires ? r->now + svc->cfg.quarantine_secs : 0);
	if (rc < 0)
		return handler_store_failed(r, rc);
	if (!m.expires) /* a static value is free at once */
		svc->range_full[handler_family_index(m.family)] = svc->refs_full = false;
	service_record(svc, IPR_CTL_EV_REMOVED, &m);
	handler_put_mapping(r, &m);
	return 0;
}
