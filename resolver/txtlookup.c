/*
 * The TXT lookup beside each A/AAAA question: started with the native one, kept out of
 * Unbound's caches in the worker thread's table (txtkeep.h), and taken by the question when its
 * native answer is back (from the table, from the message cache, or as a sub-query's answer).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "answer.h"
#include "gwname.h"
#include "subquery.h"
#include "txtlookup.h"

#include "services/cache/dns.h"
#include "services/mesh.h"
#include "sldns/rrdef.h"
#include "util/data/msgreply.h"
#include "util/data/packed_rrset.h"
#include "util/log.h"
#include "util/regional.h"

/* The TXT lookup runs detached so the native lookup can go down the chain at the same time. */
static void launch(struct module_qstate *qstate)
{
	struct query_info q = qstate->qinfo;
	struct module_qstate *newq = NULL;
	struct mesh_state *sub = NULL;

	q.qtype = LDNS_RR_TYPE_TXT;
	q.local_alias = NULL;
	/* failure is harmless: the lookup is attached, and so started, after the native one */
	if (!(*qstate->env->add_sub)(qstate, &q, sub_flags(qstate), 0, 0, &newq, &sub))
		verbose(VERB_ALGO, "ipref: could not start the TXT lookup early");
	refresh_like(newq, qstate);
	/*
	 * Only a lookup this started is changed: one already running may be a client's own TXT
	 * question, cached as stock caches it (and read by from_cache).
	 */
	if (newq)
		newq->no_cache_store = 1; /* answered into the thread's table: keep */
}

/* The thread's table has a TXT answer for the question (from_table takes it later). */
static bool kept(struct module_qstate *qstate, struct ipref_thread *thread)
{
	struct txtkeep_answer kept;

	return qstate->prefetch_leeway == 0 &&
	       txtkeep_find(&thread->txt, qstate->qinfo.qname, qstate->qinfo.qname_len,
			    sub_flags(qstate), *qstate->env->now, 0, &kept) == 0;
}

/* The RDATA of a packed RRset's records, without their 2-byte length prefixes, in region. */
static struct synth_rdata *rdata_items(struct regional *region, const struct packed_rrset_data *d)
{
	struct synth_rdata *items = regional_alloc(region, d->count * sizeof(*items));

	for (size_t i = 0; items && i < d->count; i++)
		items[i] = (struct synth_rdata){ d->rr_data[i] + 2, d->rr_len[i] - 2 };
	return items;
}

/*
 * A TXT lookup the module started (launch, txtlookup_mark), now answered: what it found goes to
 * the thread's table (txtkeep.h), for the question that started it and the same name's
 * question of the other family. What the table does not take (a CNAME chain before the TXT,
 * an answer too large) goes to Unbound's cache, as the lookup would have stored it. A failure
 * is kept nowhere: the next question asks again.
 */
static void keep(struct module_qstate *qstate, struct ipref_thread *thread)
{
	struct dns_msg *msg = qstate->return_msg;
	struct txtkeep_answer answer = { 0 };
	struct ub_packed_rrset_key *rrset;
	struct synth_rdata *items;
	struct packed_rrset_data *d;
	int rcode;

	if (qstate->return_rcode != LDNS_RCODE_NOERROR || !msg || !msg->rep)
		return;
	rcode = FLAGS_GET_RCODE(msg->rep->flags);
	if (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN)
		return;
	rrset = reply_find_answer_rrset(&qstate->qinfo, msg->rep);
	answer.security = (int)msg->rep->security;
	/* relative here, as in any answer Unbound has not cached yet */
	answer.keep_secs = msg->rep->ttl <= 0	       ? 0
			   : msg->rep->ttl > INT32_MAX ? INT32_MAX
						       : (uint32_t)msg->rep->ttl;
	if (rrset && msg->rep->an_numrrsets == 1) {
		d = rrset->entry.data;
		items = rdata_items(qstate->region, d);
		if (!items)
			return;
		answer.items = items;
		answer.count = d->count;
		answer.ttl = (uint32_t)d->ttl;
	} else if (rrset || msg->rep->an_numrrsets != 0) {
		answer_cache(qstate, msg, 1); /* a chain: the table keeps the TXT RRset alone */
		return;
	}
	if (txtkeep_put(&thread->txt, qstate->qinfo.qname, qstate->qinfo.qname_len,
			qstate->query_flags, &answer, *qstate->env->now) == -E2BIG)
		answer_cache(qstate, msg, 1);
}

/*
 * The module's own TXT lookups are the TXT questions that store nothing: launch and
 * txtlookup_mark set no_cache_store. A zone configured with no-cache sets it too, but also
 * no_cache_lookup, which the module sets only on a prefetch's lookups; what such a zone answers is
 * not kept.
 */
static bool own_lookup(const struct module_qstate *qstate)
{
	return qstate->qinfo.qtype == LDNS_RR_TYPE_TXT && qstate->no_cache_store &&
	       !qstate->is_priming && !qstate->is_valrec &&
	       (!qstate->no_cache_lookup || qstate->prefetch_leeway != 0);
}

/* A TXT answer's DNSSEC status, for the question in qstate: false when bogus ends the matter. */
static bool txt_security(struct module_qstate *qstate, struct ipref_query *iq, int security)
{
	if (security == sec_status_bogus) {
		if (gwname_enforces_validation(qstate)) {
			iq->txt_bogus = true;
			return false;
		}
		iq->used_bogus = true;
	}
	iq->txt_secure = security == sec_status_secure;
	return true;
}

/* The AA records among a TXT RRset's RDATA, counted. */
static void txt_records(struct ipref_query *iq, struct ipref_thread *thread,
			const struct synth_rdata *items, size_t count, uint32_t ttl)
{
	iq->txt_found = synth_txt_parse(items, count, ttl, &iq->txt);
	if (thread)
		IPREF_COUNT(thread, malformed, iq->txt.malformed + iq->txt.broken);
	if (thread)
		IPREF_COUNT(thread, bad_context, iq->txt.bad_context);
}

/*
 * The TXT answer from the thread's table (keep), where the early lookup put it when it
 * finished before the native answer, or the same name's question of the other family did. A
 * prefetch takes only what was kept since it began: it must see what its own lookup refreshes.
 */
static bool from_table(struct module_qstate *qstate, struct ipref_query *iq,
		       struct ipref_thread *thread)
{
	time_t not_before = qstate->prefetch_leeway != 0 ? qstate->qstarttime : 0;
	struct txtkeep_answer kept;

	if (txtkeep_find(&thread->txt, qstate->qinfo.qname, qstate->qinfo.qname_len,
			 sub_flags(qstate), *qstate->env->now, not_before, &kept) < 0)
		return false;
	iq->txt_done = true;
	iq->txt_found = -ENOENT;
	if (!txt_security(qstate, iq, kept.security) || kept.count == 0)
		return true;
	txt_records(iq, thread, kept.items, kept.count, kept.ttl);
	if (iq->txt_found != 0)
		return true;
	/* no chain led to it (keep): the TXT's owner is the question's name */
	iq->owner =
		regional_alloc_init(qstate->region, qstate->qinfo.qname, qstate->qinfo.qname_len);
	if (!iq->owner)
		iq->txt_found = -ENOMEM;
	iq->owner_len = qstate->qinfo.qname_len;
	return true;
}

/*
 * The TXT answer straight from the message cache, where a client's own TXT question put it, or
 * a lookup whose answer the table did not take (keep): the message that a sub-query
 * attached now would be answered with, without a mesh state going through the validator and
 * iterator for it. Taken only when
 * it is whole (the TXT RRset at the end of its chain, or no data at all) and needs no more
 * validation (validated, or nothing validates); anything else attaches as before, and so does
 * a prefetch, which must see what its own lookup refreshes.
 */
static bool from_cache(struct module_qstate *qstate, struct ipref_query *iq,
		       struct ipref_thread *thread)
{
	struct module_env *env = qstate->env;
	struct query_info q = qstate->qinfo;
	struct msgreply_entry *e;
	struct dns_msg *msg;
	int rcode;

	if (qstate->prefetch_leeway != 0)
		return false;
	q.qtype = LDNS_RR_TYPE_TXT;
	q.local_alias = NULL;
	e = msg_cache_lookup(env, q.qname, q.qname_len, q.qtype, q.qclass, sub_flags(qstate),
			     *env->now, 0);
	if (!e)
		return false;
	/* NULL when expired, or when one of its RRsets changed since */
	msg = tomsg(env, &e->key, (struct reply_info *)e->entry.data, qstate->region, *env->now, 0,
		    env->scratch);
	lock_rw_unlock(&e->entry.lock);
	if (!msg || !msg->rep)
		return false;
	rcode = FLAGS_GET_RCODE(msg->rep->flags);
	if (msg->rep->security <= sec_status_bogus &&
	    !(msg->rep->security == sec_status_unchecked && !env->need_to_validate))
		return false;
	if ((rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN) ||
	    (msg->rep->an_numrrsets != 0 && !reply_find_answer_rrset(&q, msg->rep)))
		return false;
	txtlookup_take(qstate, iq, thread, &q, LDNS_RCODE_NOERROR, msg);
	return true;
}

void txtlookup_start(struct module_qstate *qstate, struct ipref_thread *thread)
{
	if (!kept(qstate, thread))
		launch(qstate);
}

void txtlookup_mark(struct module_qstate *newq)
{
	if (newq && newq->qinfo.qtype == LDNS_RR_TYPE_TXT)
		newq->no_cache_store = 1; /* answered into the thread's table: keep */
}

void txtlookup_done(struct module_qstate *qstate, struct ipref_thread *thread)
{
	if (own_lookup(qstate))
		keep(qstate, thread);
}

bool txtlookup_take_kept(struct module_qstate *qstate, struct ipref_query *iq,
			 struct ipref_thread *thread)
{
	return from_table(qstate, iq, thread) || from_cache(qstate, iq, thread);
}

/* The TXT lookup's answer (qinfo, rcode, msg), copied into the super's region. */
void txtlookup_take(struct module_qstate *super, struct ipref_query *iq,
		    struct ipref_thread *thread, struct query_info *qinfo, int rcode,
		    struct dns_msg *msg)
{
	struct ub_packed_rrset_key *rrset;
	struct packed_rrset_data *d;
	struct synth_rdata *items;
	size_t chain = 0;

	iq->txt_done = true;
	iq->txt_found = -ENOENT;
	if (rcode != LDNS_RCODE_NOERROR || !msg || !msg->rep ||
	    (FLAGS_GET_RCODE(msg->rep->flags) != LDNS_RCODE_NOERROR &&
	     FLAGS_GET_RCODE(msg->rep->flags) != LDNS_RCODE_NXDOMAIN)) {
		iq->txt_failed = true; /* no TXT to be had now: the native answer, briefly */
		return;
	}
	if (!txt_security(super, iq, msg->rep->security))
		return;
	rrset = reply_find_answer_rrset(qinfo, msg->rep);
	if (!rrset)
		return;
	d = rrset->entry.data;
	items = rdata_items(super->region, d);
	if (!items) {
		iq->txt_found = -ENOMEM;
		return;
	}
	txt_records(iq, thread, items, d->count, (uint32_t)d->ttl);
	if (iq->txt_found != 0)
		return;

	/* the CNAME/DNAME records that led to the TXT go into the answer too */
	for (size_t i = 0; i < msg->rep->an_numrrsets && msg->rep->rrsets[i] != rrset; i++)
		chain++;
	iq->chain = chain ? regional_alloc(super->region, chain * sizeof(*iq->chain)) : NULL;
	iq->owner = regional_alloc_init(super->region, rrset->rk.dname, rrset->rk.dname_len);
	if ((chain && !iq->chain) || !iq->owner) {
		iq->txt_found = -ENOMEM;
		return;
	}
	iq->owner_len = rrset->rk.dname_len;
	for (size_t i = 0; i < chain; i++) {
		uint16_t type = ntohs(msg->rep->rrsets[i]->rk.type);

		if (type != LDNS_RR_TYPE_CNAME && type != LDNS_RR_TYPE_DNAME)
			continue;
		iq->chain[iq->chain_count] = answer_copy_rrset(super, msg->rep->rrsets[i]);
		if (!iq->chain[iq->chain_count++]) {
			iq->txt_found = -ENOMEM;
			return;
		}
	}
}
