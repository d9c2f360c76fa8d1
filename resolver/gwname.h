/* A gateway name's addresses for AA records: from a lookup's answer or from the cache. */
#ifndef GWNAME_H
#define GWNAME_H

#include <stdbool.h>
#include <stdint.h>

#include "module.h"

struct module_qstate;
struct query_info;
struct dns_msg;

/*
 * Whether bogus data stops qstate's question. Unbound validates every lookup, CD or not, and
 * lets a client that set CD have bogus data (RFC 4035 3.2.2) only when it replies: the module,
 * whose sub-queries see bogus data either way, decides as the mesh does for its replies.
 */
bool gwname_enforces_validation(const struct module_qstate *qstate);

/*
 * The answer (rcode, msg) to q, an A or AAAA lookup of rec's gateway name, for super's
 * question: rec's address of that family if there is one, or why not (failed, bogus).
 */
void gwname_take_answer(struct module_qstate *super, struct ipref_query *iq,
			struct ipref_record *rec, struct query_info *q, int rcode,
			struct dns_msg *msg);

/*
 * rec's gateway name's address RRset of type from the cache, when one is there that a lookup
 * would use (an answer, not glue; validated, or from a zone without DNSSEC): true when taken,
 * so that no lookup is needed.
 */
bool gwname_from_cache(struct module_qstate *qstate, struct ipref_query *iq,
		       struct ipref_record *rec, uint16_t type);

/*
 * Keeps the address RRset of a lookup's answer (rcode, msg to q) in the RRset cache for the
 * next name behind the same gateway: gateway-name lookups do not store their answers (the
 * message cache entry for the name is the clients'), so gwname_from_cache finds it here.
 */
void gwname_keep(struct module_qstate *qstate, struct query_info *q, int rcode,
		 struct dns_msg *msg);

#endif
