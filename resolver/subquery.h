/* The flags and prefetch marks of the lookups the module starts beside a client's question. */
#ifndef SUBQUERY_H
#define SUBQUERY_H

#include <stdint.h>

#include "util/module.h"
#include "util/net_help.h"

/* RD, and the client's CD: a lookup for a CD question sees what the client would. */
static inline uint16_t sub_flags(const struct module_qstate *qstate)
{
	return (uint16_t)(BIT_RD | (qstate->query_flags & BIT_CD));
}

/*
 * A prefetch refreshes what the cache holds: its lookups must not be answered from the cache
 * (the TXT's remaining TTL would bound the refreshed answer's), and store what they find with
 * the prefetch's leeway, as Unbound's own prefetch does. The TXT lookup attached after the
 * native answer is not one of them: it is the early one still running, or else a new one, and
 * the early one's answer was taken from the thread's table if it was there (txtlookup.c).
 */
static inline void refresh_like(struct module_qstate *newq, const struct module_qstate *qstate)
{
	if (!newq || qstate->prefetch_leeway == 0)
		return;
	newq->no_cache_lookup = 1;
	newq->prefetch_leeway = qstate->prefetch_leeway;
}

#endif
