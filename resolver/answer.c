/* Building the module's replies as Unbound messages in the query's region, and caching them. */
#include "config.h"

#include "answer.h"

#include "services/cache/dns.h"
#include "sldns/rrdef.h"
#include "util/data/msgreply.h"
#include "util/data/packed_rrset.h"
#include "util/log.h"
#include "util/module.h"
#include "util/net_help.h"
#include "util/regional.h"

/* One contiguous packed RRset as Unbound lays them out: struct, lengths, pointers, TTLs, data. */
static struct packed_rrset_data *
packed_data(struct regional *region, const struct synth_answer *data, uint32_t ttl, int secure)
{
	size_t n = data->count;
	size_t size = sizeof(struct packed_rrset_data) +
		      n * (sizeof(size_t) + sizeof(uint8_t *) + sizeof(time_t)) + data->total;
	struct packed_rrset_data *d = regional_alloc_zero(region, size);
	uint8_t *next;

	if (!d)
		return NULL;
	d->ttl = ttl;
	d->count = n;
	d->rrsig_count = 0;
	d->trust = rrset_trust_ans_noAA;
	d->security = secure ? sec_status_secure : sec_status_insecure;
	d->rr_len = (size_t *)(d + 1);
	for (size_t i = 0; i < n; i++)
		d->rr_len[i] = data->len[i];
	packed_rrset_ptr_fixup(d);
	next = d->rr_data[0];
	for (size_t i = 0; i < n; i++) {
		memcpy(next, data->data[i], data->len[i]);
		next += data->len[i];
		d->rr_ttl[i] = ttl;
	}
	return d;
}

static struct ub_packed_rrset_key *synth_rrset(struct regional *region,
					       const struct answer_parts *parts, uint16_t type,
					       const struct synth_answer *data)
{
	struct ub_packed_rrset_key *key = regional_alloc_zero(region, sizeof(*key));
	struct packed_rrset_data *d;

	if (!key)
		return NULL;
	key->rk.dname = regional_alloc_init(region, parts->owner, parts->owner_len);
	d = packed_data(region, data, parts->ttl, parts->secure);
	if (!key->rk.dname || !d)
		return NULL;
	key->rk.dname_len = parts->owner_len;
	key->rk.type = htons(type);
	key->rk.rrset_class = htons(LDNS_RR_CLASS_IN);
	key->rk.flags = ANSWER_RRSET_FLAG;
	key->entry.key = key;
	key->entry.data = d;
	key->entry.hash = rrset_key_hash(&key->rk);
	return key;
}

static struct reply_info *new_reply(struct regional *region, uint16_t rcode, size_t an, time_t ttl,
				    int secure)
{
	return construct_reply_info_base(region, (uint16_t)(BIT_QR | BIT_RA | rcode), 1, ttl,
					 PREFETCH_TTL_CALC(ttl), ttl, an, 0, 0, an,
					 secure ? sec_status_secure : sec_status_insecure);
}

static struct dns_msg *new_msg(struct module_qstate *qstate, struct reply_info *rep)
{
	struct dns_msg *msg = regional_alloc_zero(qstate->region, sizeof(*msg));

	if (!msg || !rep)
		return NULL;
	msg->qinfo = qstate->qinfo;
	msg->qinfo.local_alias = NULL;
	msg->rep = rep;
	return msg;
}

struct dns_msg *answer_build(struct module_qstate *qstate, const struct answer_parts *parts,
			     uint16_t type, const struct synth_answer *data)
{
	size_t an = parts->chain_count + (data->count ? 1 : 0);
	time_t ttl = parts->ttl;
	struct reply_info *rep;

	/* the message lives no longer than its shortest RRset */
	for (size_t i = 0; i < parts->chain_count; i++) {
		struct packed_rrset_data *d = parts->chain[i]->entry.data;

		if (d->ttl < ttl)
			ttl = d->ttl;
	}
	rep = new_reply(qstate->region, LDNS_RCODE_NOERROR, an, ttl, parts->secure);
	if (!rep)
		return NULL;
	for (size_t i = 0; i < parts->chain_count; i++)
		rep->rrsets[i] = parts->chain[i];
	if (data->count) {
		rep->rrsets[an - 1] = synth_rrset(qstate->region, parts, type, data);
		if (!rep->rrsets[an - 1])
			return NULL;
	}
	return new_msg(qstate, rep);
}

struct dns_msg *answer_nxdomain(struct module_qstate *qstate)
{
	return new_msg(qstate, new_reply(qstate->region, LDNS_RCODE_NXDOMAIN, 0, 0, 0));
}

struct ub_packed_rrset_key *answer_copy_rrset(struct module_qstate *qstate,
					      struct ub_packed_rrset_key *rrset)
{
	return packed_rrset_copy_region(rrset, qstate->region, 0);
}

void answer_cache_for(struct module_qstate *qstate, struct dns_msg *msg, int allowed,
		      time_t at_most)
{
	struct reply_info rep;

	if (!allowed || !msg || !msg->rep)
		return;
	/* a shallow copy with shorter lifetimes: the cache copies what it keeps */
	rep = *msg->rep;
	if (rep.ttl > at_most) {
		rep.serve_expired_ttl -= rep.ttl - at_most;
		rep.ttl = at_most;
		rep.prefetch_ttl = PREFETCH_TTL_CALC(at_most);
	}
	/*
	 * A prefetch's leeway lets the fresh RRsets replace cached ones that have not expired
	 * yet, as the iterator stores them: without it the refreshed message would still point at
	 * the old RRsets and expire with them.
	 */
	if (!dns_cache_store(qstate->env, &qstate->qinfo, &rep, 0, qstate->prefetch_leeway, 0, NULL,
			     qstate->query_flags, qstate->qstarttime))
		log_err("ipref: out of memory caching an answer");
}

void answer_cache(struct module_qstate *qstate, struct dns_msg *msg, int allowed)
{
	answer_cache_for(qstate, msg, allowed, msg && msg->rep ? msg->rep->ttl : 0);
}
