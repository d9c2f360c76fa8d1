/* A gateway name's addresses for AA records: from a lookup's answer or from the cache. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "gwname.h"

#include "services/cache/dns.h"
#include "services/cache/rrset.h"
#include "sldns/rrdef.h"
#include "util/config_file.h"
#include "util/data/dname.h"
#include "util/data/msgreply.h"
#include "util/data/packed_rrset.h"
#include "util/locks.h"
#include "util/net_help.h"
#include "util/module.h"
#include "util/regional.h"

bool gwname_enforces_validation(const struct module_qstate *qstate)
{
	return qstate->env->need_to_validate &&
	       (!(qstate->query_flags & BIT_CD) || qstate->env->cfg->ignore_cd);
}

/* The first address in rrset (ttl, security as given) becomes rec's of that family. */
static void take_rrset(struct ipref_record *rec, uint16_t type,
		       const struct ub_packed_rrset_key *rrset, uint32_t ttl,
		       enum sec_status security)
{
	const struct packed_rrset_data *d = rrset->entry.data;
	int index = type == LDNS_RR_TYPE_A ? 0 : 1;
	size_t want = type == LDNS_RR_TYPE_A ? 4 : 16;

	for (size_t i = 0; i < d->count; i++) {
		if (d->rr_len[i] != 2 + want)
			continue;
		rec->context[index] = (struct synth_ip){ .family = index ? AF_INET6 : AF_INET };
		memcpy(rec->context[index].addr, d->rr_data[i] + 2, want);
		rec->name_ttl = rec->have[0] || rec->have[1]
					? (ttl < rec->name_ttl ? ttl : rec->name_ttl)
					: ttl;
		rec->have[index] = true;
		rec->name_insecure |= security != sec_status_secure;
		return;
	}
}

void gwname_take_answer(struct module_qstate *super, struct ipref_query *iq,
			struct ipref_record *rec, struct query_info *q, int rcode,
			struct dns_msg *msg)
{
	struct ub_packed_rrset_key *rrset;
	struct packed_rrset_data *d;

	if (rcode != LDNS_RCODE_NOERROR || !msg || !msg->rep) {
		rec->name_failed = true;
		return;
	}
	if (msg->rep->security == sec_status_bogus) {
		if (gwname_enforces_validation(super)) {
			rec->name_failed = rec->name_bogus = true;
			return;
		}
		iq->used_bogus = true;
	}
	rrset = reply_find_answer_rrset(q, msg->rep);
	if (!rrset)
		return; /* no address of this family */
	d = rrset->entry.data;
	take_rrset(rec, q->qtype, rrset,
		   (uint32_t)(msg->rep->ttl < d->ttl ? msg->rep->ttl : d->ttl), msg->rep->security);
}

/* Data a lookup would have used: an answer (not glue or additional data), validated. */
static bool usable(const struct module_env *env, const struct packed_rrset_data *d)
{
	bool answered = d->trust == rrset_trust_ans_noAA || d->trust == rrset_trust_ans_AA ||
			d->trust >= rrset_trust_sec_noglue;

	if (!answered)
		return false;
	if (!env->need_to_validate)
		return true;
	/* indeterminate: outside every trust anchor, as good as insecure */
	return d->security == sec_status_secure || d->security == sec_status_insecure ||
	       d->security == sec_status_indeterminate;
}

bool gwname_from_cache(struct module_qstate *qstate, struct ipref_query *iq,
		       struct ipref_record *rec, uint16_t type)
{
	struct module_env *env = qstate->env;
	time_t now = *env->now;
	struct ub_packed_rrset_key *key = rrset_cache_lookup(
		env->rrset_cache, rec->name_wire, rec->name_len, type, LDNS_RR_CLASS_IN, 0, now, 0);
	struct packed_rrset_data *d;
	bool taken = false;

	(void)iq;
	if (!key)
		return false;
	d = key->entry.data;
	if (usable(env, d) && d->ttl > now) {
		bool had = rec->have[type == LDNS_RR_TYPE_A ? 0 : 1];

		take_rrset(rec, type, key, (uint32_t)(d->ttl - now), d->security);
		taken = rec->have[type == LDNS_RR_TYPE_A ? 0 : 1] && !had;
	}
	lock_rw_unlock(&key->entry.lock);
	return taken;
}

void gwname_keep(struct module_qstate *qstate, struct query_info *q, int rcode, struct dns_msg *msg)
{
	struct module_env *env = qstate->env;
	struct ub_packed_rrset_key *rrset, *copy;
	struct rrset_ref ref;

	if (rcode != LDNS_RCODE_NOERROR || !msg || !msg->rep)
		return;
	rrset = reply_find_answer_rrset(q, msg->rep);
	/* only the name's own RRset: a chain's target is the iterator's to store */
	if (!rrset || rrset->rk.dname_len != q->qname_len ||
	    query_dname_compare(rrset->rk.dname, q->qname) != 0 || !usable(env, rrset->entry.data))
		return;
	copy = packed_rrset_copy_alloc(rrset, env->alloc, *env->now);
	if (!copy)
		return;
	ref.key = copy;
	ref.id = copy->id;
	/* the cache keeps the better of this and what it has, and frees the other */
	(void)rrset_cache_update(env->rrset_cache, &ref, env->alloc, *env->now);
}
