/*
 * The ipref module's work on one query. A client's A/AAAA question goes down the chain for its
 * native answer while a detached TXT lookup of the same name runs beside it; when the native
 * answer is back, the TXT answer is taken from the thread's table (txtkeep.h) if the early
 * lookup has put it there, else the TXT lookup is attached (still running, or a new one), so
 * both cost one round trip. The module's TXT lookups store nothing in Unbound's caches: the
 * client's answer is cached under its own question. Valid AA records then win: context names are
 * resolved with sub-queries, gwctld hands out the encoded addresses, and the answer is cached under
 * the question like any other. PTR questions for encoded addresses are answered from gwctld.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "answer.h"
#include "ctl_proto.h"
#include "gwname.h"
#include "module.h"
#include "subquery.h"
#include "txtlookup.h"

#include "services/cache/dns.h"
#include "services/mesh.h"
#include "sldns/rrdef.h"
#include "util/data/dname.h"
#include "util/data/msgreply.h"
#include "util/data/packed_rrset.h"
#include "util/log.h"
#include "util/module.h"
#include "util/net_help.h"
#include "util/regional.h"

/* PTR answers are cached at most this long: a mapping removed by hand stops answering soon. */
#define PTR_TTL_MAX 300

/*
 * A client whose question is the same as a gateway-name lookup in flight joins that lookup
 * (Unbound shares one query state): the state is marked, so that the module answers such a
 * client as any other when the native answer is back, and keeps that answer for the lookup.
 */
static void mark_gateway_lookup(struct module_qstate *newq, int id)
{
	struct ipref_query *iq = regional_alloc_zero(newq->region, sizeof(*iq));

	if (!iq)
		return; /* the lookup works unmarked; only a joining client would see native data */
	iq->ede = LDNS_EDE_NONE;
	iq->phase = IPREF_NATIVE;
	iq->started_no_cache_store = 1;
	iq->gateway_lookup = true;
	newq->minfo[id] = iq;
}

static bool has_clients(const struct module_qstate *qstate)
{
	return qstate->mesh_info->reply_list || qstate->mesh_info->cb_list;
}

/*
 * The client whose question this is (the first waiting; behind a proxy the proxied one), for
 * gwctld's limits on new names per client; family 0 for prefetch and internal lookups.
 */
static struct synth_ip query_client(const struct module_qstate *qstate)
{
	const struct mesh_reply *r = qstate->mesh_info ? qstate->mesh_info->reply_list : NULL;
	struct synth_ip ip = { 0 };

	if (r && r->query_reply.client_addr.ss_family == AF_INET) {
		ip.family = AF_INET;
		memcpy(ip.addr,
		       &((const struct sockaddr_in *)&r->query_reply.client_addr)->sin_addr, 4);
	} else if (r && r->query_reply.client_addr.ss_family == AF_INET6) {
		ip.family = AF_INET6;
		memcpy(ip.addr,
		       &((const struct sockaddr_in6 *)&r->query_reply.client_addr)->sin6_addr, 16);
	}
	return ip;
}

static bool attach(struct module_qstate *qstate, const uint8_t *name, size_t name_len,
		   uint16_t type)
{
	struct query_info q = { .qname = (uint8_t *)name,
				.qname_len = name_len,
				.qtype = type,
				.qclass = LDNS_RR_CLASS_IN };
	struct module_qstate *newq = NULL;

	/* a cycle (a context name that is the question itself) is refused, not followed */
	if ((*qstate->env->detect_cycle)(qstate, &q, sub_flags(qstate), 0, 0))
		return false;
	if (!(*qstate->env->attach_sub)(qstate, &q, sub_flags(qstate), 0, 0, &newq))
		return false;
	/*
	 * A gateway name's address lookup must see native data, and clients must not: the name
	 * may have AA records of its own, whose answer (encoded addresses) is what the message
	 * cache holds for clients under the same question. So a lookup started here neither reads
	 * nor writes the message cache. One already running (a client's question) is not
	 * touched: take_context reads the native answer that question kept.
	 */
	if (newq && (type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_AAAA)) {
		refresh_like(newq, qstate);
		newq->no_cache_lookup = 1;
		newq->no_cache_store = 1;
		mark_gateway_lookup(newq, qstate->curmod);
	}
	txtlookup_mark(newq);
	return true;
}

static enum module_ext_state finish(struct module_qstate *qstate, struct ipref_query *iq,
				    struct dns_msg *msg)
{
	qstate->return_msg = msg;
	qstate->return_rcode = LDNS_RCODE_NOERROR;
	qstate->no_cache_store = iq->started_no_cache_store;
	return module_finished;
}

/* SERVFAIL, never cached (no_cache_store stays set), with an Extended DNS Error. */
static enum module_ext_state servfail(struct module_qstate *qstate, struct ipref_query *iq,
				      struct ipref_thread *thread, int ede, const char *text)
{
	iq->ede = ede;
	iq->ede_text = text;
	if (thread)
		IPREF_COUNT(thread, failed, 1);
	errinf(qstate, text);
	qstate->return_msg = NULL;
	qstate->return_rcode = LDNS_RCODE_SERVFAIL;
	return module_finished;
}

static enum module_ext_state gwctl_failure(struct module_qstate *qstate, struct ipref_query *iq,
					   struct ipref_thread *thread, int rc)
{
	if (rc == -ETIMEDOUT || rc == -EAGAIN)
		return servfail(qstate, iq, thread, LDNS_EDE_NOT_READY,
				"ipref: the gateway control daemon did not answer in time");
	if (rc == -ENOBUFS)
		return servfail(qstate, iq, thread, LDNS_EDE_NOT_READY,
				"ipref: too many questions wait for the gateway control daemon");
	return servfail(qstate, iq, thread, LDNS_EDE_NOT_READY,
			"ipref: the gateway control daemon is not reachable");
}

/*
 * gwctld answered, but its store failed (E_STORE: a full disk, its file deleted or replaced):
 * the gateway is not ready, as when gwctld itself is away, not refusing this name.
 */
static enum module_ext_state store_unavailable(struct module_qstate *qstate, struct ipref_query *iq,
					       struct ipref_thread *thread)
{
	GWLINK_COUNT(&thread->link, store_unavailable);
	return servfail(qstate, iq, thread, LDNS_EDE_NOT_READY,
			"ipref: the gateway's store is unavailable");
}

/* The query waits for the reply to request id (thread->wait resumes it). */
static int expect(struct module_qstate *qstate, struct ipref_query *iq, struct ipref_thread *thread,
		  uint32_t id)
{
	int rc = gwwait_add(&thread->wait, qstate, qstate->curmod, id);

	if (rc == 0)
		iq->gw_pending++;
	return rc;
}

/* A request could not be sent or recorded: nothing of the query's stays in the table. */
static enum module_ext_state send_failed(struct module_qstate *qstate, struct ipref_query *iq,
					 struct ipref_thread *thread, int rc)
{
	gwwait_forget(&thread->wait, qstate);
	iq->gw_pending = 0;
	/* a connection replaced since the query began: its RANGES is not waited for twice */
	return gwctl_failure(qstate, iq, thread, rc == -EINPROGRESS ? -ECONNRESET : rc);
}

/*
 * Suspends the query until its replies are in (gwwait.c runs it again) or timeout-ms passed
 * (its wakeup fires): the worker thread goes on with other queries meanwhile.
 */
static enum module_ext_state wait_gwctl(struct module_qstate *qstate, struct ipref_query *iq,
					struct ipref_thread *thread, enum ipref_phase phase)
{
	iq->phase = phase;
	if (wakeup_arm(&iq->wakeup, qstate, thread->link.settings->timeout_ms) < 0)
		return send_failed(qstate, iq, thread, -ENOMEM);
	return module_wait_reply;
}

static struct ipref_query *start(struct module_qstate *qstate, int id)
{
	struct ipref_query *iq = regional_alloc_zero(qstate->region, sizeof(*iq));

	if (!iq)
		return NULL;
	iq->ede = LDNS_EDE_NONE;
	iq->started_no_cache_store = qstate->no_cache_store;
	/* the answer is ours to cache: a native answer cached below would hide AA records */
	qstate->no_cache_store = 1;
	qstate->minfo[id] = iq;
	return iq;
}

/* finish_native's at_most for a native answer that stands as long as its TTL says */
#define NATIVE_FULL_TTL ((time_t)UINT32_MAX)

/*
 * The native answer, cached for at most at_most seconds: ANSWER_BRIEF_TTL when the TXT or
 * gateway-name lookups failed or did not finish in time, so that a server's passing trouble does
 * not hide the name's AA records for a whole TTL.
 */
static enum module_ext_state finish_native(struct module_qstate *qstate, struct ipref_query *iq,
					   struct ipref_thread *thread, time_t at_most)
{
	struct dns_msg *msg = iq->native;
	bool cacheable = msg && msg->rep && iq->native_rcode == LDNS_RCODE_NOERROR &&
			 msg->rep->security != sec_status_bogus &&
			 (FLAGS_GET_RCODE(msg->rep->flags) == LDNS_RCODE_NOERROR ||
			  FLAGS_GET_RCODE(msg->rep->flags) == LDNS_RCODE_NXDOMAIN);

	if (thread)
		IPREF_COUNT(thread, native, 1);
	qstate->return_msg = msg;
	qstate->return_rcode = iq->native_rcode;
	answer_cache_for(qstate, msg, cacheable && !iq->started_no_cache_store, at_most);
	qstate->no_cache_store = iq->started_no_cache_store;
	return module_finished;
}

/* The native answer holds records of the type asked (directly or at the end of a chain). */
static bool native_has_data(struct module_qstate *qstate, const struct ipref_query *iq)
{
	const struct dns_msg *msg = iq->native;

	return msg && msg->rep && iq->native_rcode == LDNS_RCODE_NOERROR &&
	       FLAGS_GET_RCODE(msg->rep->flags) == LDNS_RCODE_NOERROR &&
	       msg->rep->security != sec_status_bogus &&
	       reply_find_answer_rrset(&qstate->qinfo, msg->rep) != NULL;
}

static int family_index(uint16_t qtype)
{
	return qtype == LDNS_RR_TYPE_A ? 0 : 1;
}

/* The context address a record resolved to: its own, or its name's (IPv4 first). */
static bool record_context(const struct ipref_record *rec, struct synth_ip *out)
{
	memset(out, 0, sizeof(*out));
	switch (rec->plan.kind) {
	case SYNTH_ADDRESS_V4:
		out->family = AF_INET;
		memcpy(out->addr, rec->aa.context.ipv4, 4);
		return true;
	case SYNTH_ADDRESS_V6:
		out->family = AF_INET6;
		memcpy(out->addr, rec->aa.context.ipv6, 16);
		return true;
	case SYNTH_NEEDS_NAME:
		for (int i = 0; i < 2; i++)
			if (rec->have[i]) {
				*out = rec->context[i];
				return true;
			}
		return false;
	}
	return false;
}

/* Why AA records could not be used: bits, the most telling first. */
enum unusable {
	UNUSABLE_BOGUS = 1,	  /* the gateway name failed DNSSEC validation */
	UNUSABLE_FAILED = 2,	  /* its lookup failed or did not finish in time */
	UNUSABLE_OWN_ADDRESS = 4, /* it resolved to an address no remote gateway can have */
	UNUSABLE_NO_ADDRESS = 8,  /* it does not exist, or has no address we can use */
};

/*
 * No AA record gave an encoded address, for the reasons in why (enum unusable): the native
 * answer where it has data of the type asked (cached briefly when a lookup failed, else no
 * longer than the TXT says), otherwise SERVFAIL saying why. Never an empty answer.
 */
static enum module_ext_state answer_unusable(struct module_qstate *qstate, struct ipref_query *iq,
					     struct ipref_thread *thread, unsigned why)
{
	if (why & UNUSABLE_BOGUS)
		return servfail(
			qstate, iq, thread, LDNS_EDE_DNSSEC_BOGUS,
			"ipref: the gateway names of the AA records failed DNSSEC validation");
	if (native_has_data(qstate, iq))
		return finish_native(qstate, iq, thread,
				     why & UNUSABLE_FAILED ? ANSWER_BRIEF_TTL : iq->txt.ttl);
	if (why & UNUSABLE_FAILED)
		return servfail(qstate, iq, thread, LDNS_EDE_OTHER,
				"ipref: the gateway names of the AA records did not resolve");
	if (why & UNUSABLE_OWN_ADDRESS)
		return servfail(qstate, iq, thread, LDNS_EDE_OTHER,
				"ipref: the gateway names of the AA records resolve to addresses "
				"no remote gateway can have");
	return servfail(qstate, iq, thread, LDNS_EDE_OTHER,
			"ipref: the gateway names of the AA records have no address");
}

/* The GET_EA replies are in (or gwctld failed): the answer. */
static enum module_ext_state answer_eas(struct module_qstate *qstate, struct ipref_query *iq,
					struct ipref_thread *thread)
{
	uint16_t qtype = qstate->qinfo.qtype;
	struct gwlink_ea *eas = iq->eas;
	struct synth_ip ips[SYNTH_AA_MAX];
	bool secure = iq->secure;
	unsigned why = iq->why;
	uint32_t ttl = iq->txt.ttl;
	size_t n = iq->ea_count, found = 0;

	if (iq->gw_rc < 0)
		return gwctl_failure(qstate, iq, thread, iq->gw_rc);
	for (size_t i = 0; i < n; i++) {
		const struct ipref_record *rec = &iq->records[iq->ea_record[i]];

		switch (eas[i].status) {
		case IPR_CTL_OK:
			ips[found++] = eas[i].encoded;
			ttl = synth_answer_ttl(
				ttl, rec->plan.kind == SYNTH_NEEDS_NAME ? &rec->name_ttl : NULL,
				eas[i].ttl);
			break;
		case IPR_CTL_E_NO_RANGE: /* the range went away since RANGES */
			break;
		case IPR_CTL_E_UNUSABLE: /* gwctld's own rule (core/context.h) refused it */
			IPREF_COUNT(thread, bad_context, 1);
			break;
		case IPR_CTL_E_EXHAUSTED:
			return servfail(qstate, iq, thread, LDNS_EDE_OTHER,
					"ipref: no free encoded address is left");
		case IPR_CTL_E_QUOTA: /* this client, or all, made too many new names of late */
			IPREF_COUNT(thread, over_quota, 1);
			return servfail(qstate, iq, thread, LDNS_EDE_OTHER,
					"ipref: too many new names from this client: try later");
		case IPR_CTL_E_STORE:
			return store_unavailable(qstate, iq, thread);
		default:
			return servfail(qstate, iq, thread, LDNS_EDE_OTHER,
					"ipref: the gateway control daemon refused the request");
		}
	}
	if (found == 0 && why)
		return answer_unusable(qstate, iq, thread, why);

	uint8_t *buf = regional_alloc(qstate->region, SYNTH_ANSWER_MAX);
	struct synth_answer data;
	struct answer_parts parts = { iq->chain, iq->chain_count, iq->owner, iq->owner_len,
				      ttl,	 secure };
	struct dns_msg *msg;

	if (!buf || synth_answer_build(qtype, ips, found, buf, SYNTH_ANSWER_MAX, &data) < 0)
		return servfail(qstate, iq, thread, LDNS_EDE_OTHER,
				"ipref: could not build the answer");
	msg = answer_build(qstate, &parts, qtype, &data);
	if (!msg)
		return servfail(qstate, iq, thread, LDNS_EDE_OTHER, "ipref: out of memory");
	IPREF_COUNT(thread, synthesized, 1);
	/* the message cache would give an answer made of bogus data to clients without CD too */
	answer_cache(qstate, msg,
		     !iq->started_no_cache_store && !(why & UNUSABLE_FAILED) && !iq->used_bogus);
	return finish(qstate, iq, msg);
}

/* The AA records' context addresses are known: GET_EA for each usable one, then wait. */
static enum module_ext_state answer_records(struct module_qstate *qstate, struct ipref_query *iq,
					    struct ipref_thread *thread)
{
	uint16_t qtype = qstate->qinfo.qtype;
	struct gwlink_ea *eas = iq->eas;
	char owner[IPR_NAME_MAX + 1];
	bool named = synth_name_from_wire(iq->owner, iq->owner_len, owner) == 0;
	bool secure = iq->txt_secure;
	unsigned why = 0;
	size_t n = 0;
	int rc;

	for (size_t k = 0; k < iq->record_count; k++) {
		const struct ipref_record *rec = &iq->records[k];
		struct synth_ip context;

		if (!record_context(rec, &context)) {
			why |= rec->name_bogus	  ? UNUSABLE_BOGUS
			       : rec->name_failed ? UNUSABLE_FAILED
						  : UNUSABLE_NO_ADDRESS;
			continue;
		}
		/* a gateway name answered with one of our addresses, or 127.0.0.1, is no gateway */
		if (synth_ip_check(&context, &thread->link.layout.site) != IPR_ADDR_USABLE) {
			IPREF_COUNT(thread, bad_context, 1);
			why |= UNUSABLE_OWN_ADDRESS;
			continue;
		}
		secure &= !rec->name_insecure;
		eas[n] = (struct gwlink_ea){ .context = context,
					     .ref = rec->aa.ref,
					     .family = qtype == LDNS_RR_TYPE_A ? AF_INET : AF_INET6,
					     .name = named ? owner : NULL,
					     .client = query_client(qstate) };
		iq->ea_record[n++] = (uint8_t)k;
	}
	iq->ea_count = n;
	iq->why = why;
	iq->secure = secure;
	if (n == 0)
		return answer_eas(qstate, iq, thread);
	rc = gwwait_open(&thread->wait);
	if (rc == 0)
		rc = gwlink_send_get_eas(&thread->link, eas, n);
	gwwait_sync(&thread->wait);
	for (size_t i = 0; i < n; i++) {
		eas[i].name = NULL; /* owner is gone when the replies come */
		if (rc == 0)
			rc = expect(qstate, iq, thread, eas[i].id);
	}
	if (rc < 0)
		return send_failed(qstate, iq, thread, rc);
	return wait_gwctl(qstate, iq, thread, IPREF_GWCTL);
}

/* rec's gateway name, looked up as type, is the question being answered. */
static bool is_question(const struct module_qstate *qstate, const struct ipref_record *rec,
			uint16_t type)
{
	return qstate->qinfo.qtype == type && qstate->qinfo.qname_len == rec->name_len &&
	       query_dname_compare(qstate->qinfo.qname, (uint8_t *)rec->name_wire) == 0;
}

/* Starts the address lookups of context names; false when there are none to wait for. */
static bool resolve_names(struct module_qstate *qstate, struct ipref_query *iq)
{
	bool waiting = false;

	for (size_t k = 0; k < iq->record_count; k++) {
		struct ipref_record *rec = &iq->records[k];
		struct ipr_err err;

		if (rec->plan.kind != SYNTH_NEEDS_NAME)
			continue;
		if (synth_name_to_wire(rec->plan.name, strlen(rec->plan.name), rec->name_wire,
				       sizeof(rec->name_wire), &rec->name_len, &err) < 0) {
			rec->name_failed = true;
			continue;
		}
		bool resolved = false;

		for (int f = 0; f < 2; f++) {
			unsigned bit = f ? SYNTH_FAMILY_V6 : SYNTH_FAMILY_V4;
			uint16_t type = f ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A;

			if (!(rec->plan.lookups & bit))
				continue;
			/* a prefetch refreshes the gateway name too, so that its TTL is full */
			if (qstate->prefetch_leeway == 0 &&
			    gwname_from_cache(qstate, iq, rec, type)) {
				resolved = true;
				continue;
			}
			if (attach(qstate, rec->name_wire, rec->name_len, type))
				rec->waiting |= bit;
			else if (is_question(qstate, rec, type)) {
				/*
				 * The name is its own gateway: Unbound's cycle check refuses the
				 * lookup, which is the question itself, whose native answer is
				 * here already.
				 */
				gwname_take_answer(qstate, iq, rec, &qstate->qinfo,
						   iq->native_rcode, iq->native);
				resolved = true;
			}
		}
		if (!rec->waiting && !resolved)
			rec->name_failed = true;
		waiting |= rec->waiting != 0;
	}
	return waiting;
}

/* The AA records with the link's RANGES in (rc 0) or not to be had (rc < 0). */
static enum module_ext_state judge_records(struct module_qstate *qstate, struct ipref_query *iq,
					   struct ipref_thread *thread, int rc)
{
	struct gwlink *link = &thread->link;
	unsigned families;

	/* AA records naming this gateway (as last heard from gwctld) are ignored like malformed */
	IPREF_COUNT(thread, bad_context, synth_txt_check_site(&iq->txt, &link->layout.site));
	if (iq->txt.count == 0)
		return finish_native(qstate, iq, thread, NATIVE_FULL_TTL);
	if (rc < 0)
		return gwctl_failure(qstate, iq, thread, rc);
	if (!link->layout.has_range[family_index(qstate->qinfo.qtype)])
		return answer_records(qstate, iq, thread); /* no range: NOERROR, no data */

	families = gwlink_families(link);
	for (size_t i = 0; i < iq->txt.count && i < link->settings->max_records; i++) {
		struct ipref_record *rec = &iq->records[iq->record_count];

		rec->aa = iq->txt.records[i];
		if (synth_plan_record(&rec->aa, families, &rec->plan) < 0)
			continue; /* a family this gateway does not reach */
		iq->record_count++;
	}
	if (resolve_names(qstate, iq)) {
		iq->phase = IPREF_CONTEXTS;
		return module_wait_subquery;
	}
	return answer_records(qstate, iq, thread);
}

/* The TXT lookup is back: native answer, SERVFAIL, or on with the AA records. */
static enum module_ext_state decide(struct module_qstate *qstate, struct ipref_query *iq,
				    struct ipref_thread *thread)
{
	int rc;

	if (iq->txt_bogus) {
		IPREF_COUNT(thread, bogus, 1);
		return servfail(qstate, iq, thread, LDNS_EDE_DNSSEC_BOGUS,
				"ipref: the name's TXT records failed DNSSEC validation");
	}
	if (iq->txt_found == -ENOMEM)
		return servfail(qstate, iq, thread, LDNS_EDE_OTHER, "ipref: out of memory");
	if (iq->txt_found != 0)
		return finish_native(qstate, iq, thread,
				     iq->txt_failed ? ANSWER_BRIEF_TTL : NATIVE_FULL_TTL);
	/* a new connection: the gateway's own addresses and ranges are needed first */
	rc = gwwait_open(&thread->wait);
	if (rc == -EINPROGRESS) {
		rc = expect(qstate, iq, thread, thread->link.ranges_id);
		if (rc == 0)
			return wait_gwctl(qstate, iq, thread, IPREF_RANGES);
		gwwait_forget(&thread->wait, qstate);
		iq->gw_pending = 0;
	}
	return judge_records(qstate, iq, thread, rc);
}

/* lookup-wait-ms is over: gateway names still being looked up count as failed. */
static void give_up_names(struct ipref_query *iq)
{
	for (size_t k = 0; k < iq->record_count; k++)
		if (iq->records[k].waiting) {
			iq->records[k].waiting = 0;
			iq->records[k].name_failed = true;
		}
}

static bool still_waiting(const struct ipref_query *iq)
{
	for (size_t k = 0; k < iq->record_count; k++)
		if (iq->records[k].waiting)
			return true;
	return false;
}

/* PTR for an encoded address: the name it was handed out for, NXDOMAIN when not in use. */
static enum module_ext_state answer_ptr(struct module_qstate *qstate, struct ipref_query *iq,
					struct ipref_thread *thread)
{
	struct ipref_ptr *ptr = iq->ptr;
	int rc = iq->gw_rc < 0 ? iq->gw_rc : ptr->rc;

	if (rc == -ENOENT)
		return finish(qstate, iq, answer_nxdomain(qstate));
	if (rc == -EIO)
		return store_unavailable(qstate, iq, thread);
	if (rc == -EPROTO)
		return servfail(qstate, iq, thread, LDNS_EDE_OTHER,
				"ipref: the gateway control daemon refused the request");
	if (rc < 0)
		return gwctl_failure(qstate, iq, thread, rc);

	uint8_t *buf = regional_alloc(qstate->region, SYNTH_PTR_RDATA_MAX);
	struct synth_answer data = { 0 };
	struct answer_parts parts = { NULL,
				      0,
				      qstate->qinfo.qname,
				      qstate->qinfo.qname_len,
				      ptr->ttl < PTR_TTL_MAX ? ptr->ttl : PTR_TTL_MAX,
				      0 };
	struct ipr_err err;
	size_t len;
	struct dns_msg *msg;

	if (!buf)
		return servfail(qstate, iq, thread, LDNS_EDE_OTHER, "ipref: out of memory");
	/* a mapping with no name (made for a remote host that reached us first): no data */
	if (ptr->name[0] && synth_ptr_rdata(ptr->name, strlen(ptr->name), buf, SYNTH_PTR_RDATA_MAX,
					    &len, &err) == 0) {
		data = (struct synth_answer){ .count = 1, .total = len };
		data.data[0] = buf;
		data.len[0] = len;
	}
	msg = answer_build(qstate, &parts, LDNS_RR_TYPE_PTR, &data);
	if (!msg)
		return servfail(qstate, iq, thread, LDNS_EDE_OTHER, "ipref: out of memory");
	IPREF_COUNT(thread, ptr_answers, 1);
	answer_cache(qstate, msg, data.count && !iq->started_no_cache_store);
	return finish(qstate, iq, msg);
}

/*
 * A PTR question with the link opened (rc as gwlink_open): passed down unless it names an
 * encoded address, else LOOKUP_EA, or first the new connection's RANGES (then this again).
 */
static enum module_ext_state ptr_lookup(struct module_qstate *qstate, struct ipref_query *iq,
					struct ipref_thread *thread, int rc)
{
	uint32_t request;

	if (rc == -EINPROGRESS && iq->phase != IPREF_PTR_RANGES) {
		rc = expect(qstate, iq, thread, thread->link.ranges_id);
		if (rc < 0)
			return send_failed(qstate, iq, thread, rc);
		return wait_gwctl(qstate, iq, thread, IPREF_PTR_RANGES);
	}
	/* never having reached gwctld, we cannot tell its addresses from others */
	if (!gwlink_is_encoded(&thread->link, &iq->ptr->ip)) {
		qstate->no_cache_store = iq->started_no_cache_store;
		iq->phase = IPREF_PASSED;
		return module_wait_module;
	}
	if (rc == 0)
		rc = gwlink_send_lookup_ea(&thread->link, &iq->ptr->ip, &request);
	gwwait_sync(&thread->wait);
	if (rc == 0)
		rc = expect(qstate, iq, thread, request);
	if (rc < 0)
		return send_failed(qstate, iq, thread, rc);
	return wait_gwctl(qstate, iq, thread, IPREF_PTR);
}

static enum module_ext_state on_ptr(struct module_qstate *qstate, int id,
				    struct ipref_thread *thread)
{
	struct synth_ip ip;
	struct ipref_query *iq;
	int rc;

	if (synth_reverse_parse(qstate->qinfo.qname, qstate->qinfo.qname_len, &ip) < 0)
		return module_wait_module;
	rc = gwwait_open(&thread->wait);
	/* the layout of an earlier connection tells, until the new one's RANGES is in */
	if (rc != -EINPROGRESS && !gwlink_is_encoded(&thread->link, &ip))
		return module_wait_module;
	iq = start(qstate, id);
	if (!iq)
		return module_error;
	iq->ptr = regional_alloc_zero(qstate->region, sizeof(*iq->ptr));
	if (!iq->ptr)
		return servfail(qstate, iq, thread, LDNS_EDE_OTHER, "ipref: out of memory");
	iq->ptr->ip = ip;
	iq->ptr->rc = -EPROTO; /* until the reply says otherwise */
	iq->phase = IPREF_PASSED;
	return ptr_lookup(qstate, iq, thread, rc);
}

/* A new client query: ours to work on, or passed down untouched. */
static enum module_ext_state on_new(struct module_qstate *qstate, int id)
{
	struct ipref_thread *thread = ipref_thread_of(qstate, id);
	struct ipref_query *iq;
	uint16_t qtype = qstate->qinfo.qtype;

	if (!thread || qstate->qinfo.qclass != LDNS_RR_CLASS_IN)
		return module_wait_module;
	ipref_report_counters(thread, (int64_t)*qstate->env->now);
	if (qtype == LDNS_RR_TYPE_PTR)
		return on_ptr(qstate, id, thread);
	if (qtype != LDNS_RR_TYPE_A && qtype != LDNS_RR_TYPE_AAAA)
		return module_wait_module;
	iq = start(qstate, id);
	if (!iq)
		return module_error;
	IPREF_COUNT(thread, queries, 1);
	txtlookup_start(qstate, thread);
	iq->phase = IPREF_NATIVE;
	return module_wait_module;
}

static enum module_ext_state on_moddone(struct module_qstate *qstate, struct ipref_query *iq,
					struct ipref_thread *thread)
{
	if (!iq && thread)
		txtlookup_done(qstate, thread);
	if (!iq || iq->phase != IPREF_NATIVE)
		return module_finished;
	iq->native = qstate->return_msg;
	iq->native_rcode = qstate->return_rcode;
	if (iq->gateway_lookup) {
		if (!has_clients(qstate))
			return module_finished; /* the native answer, for the lookup only */
		if (thread)
			IPREF_COUNT(thread, queries, 1);
	}
	/* the client has waited for the native answer; the rest may add lookup-wait-ms at most */
	if (thread && wakeup_arm(&iq->wakeup, qstate, thread->link.settings->lookup_wait_ms) < 0)
		verbose(VERB_OPS, "ipref: no timer: the TXT lookup is waited for unbounded");
	iq->phase = IPREF_TXT;
	if (thread && txtlookup_take_kept(qstate, iq, thread))
		return decide(qstate, iq, thread);
	if (!attach(qstate, qstate->qinfo.qname, qstate->qinfo.qname_len, LDNS_RR_TYPE_TXT))
		return finish_native(qstate, iq, thread, ANSWER_BRIEF_TTL);
	return module_wait_subquery;
}

/* Suspended on gwctld and run again: the replies are in, or the wait failed or timed out. */
static enum module_ext_state on_gwctl(struct module_qstate *qstate, struct ipref_query *iq,
				      struct ipref_thread *thread)
{
	int rc;

	if (iq->gw_pending) {
		if (!wakeup_fired(&iq->wakeup))
			return module_wait_reply; /* something else woke it (a sub-query ending) */
		gwwait_forget(&thread->wait, qstate);
		iq->gw_pending = 0;
		iq->gw_rc = -ETIMEDOUT;
		gwlink_timed_out(&thread->link);
	}
	switch (iq->phase) {
	case IPREF_RANGES:
		rc = iq->gw_rc < 0 ? iq->gw_rc : gwwait_open(&thread->wait);
		return judge_records(qstate, iq, thread, rc == -EINPROGRESS ? -ECONNRESET : rc);
	case IPREF_PTR_RANGES:
		rc = iq->gw_rc < 0 ? iq->gw_rc : gwwait_open(&thread->wait);
		return ptr_lookup(qstate, iq, thread, rc == -EINPROGRESS ? -ECONNRESET : rc);
	case IPREF_GWCTL:
		return answer_eas(qstate, iq, thread);
	default:
		return answer_ptr(qstate, iq, thread);
	}
}

static enum module_ext_state on_pass(struct module_qstate *qstate, struct ipref_query *iq,
				     struct ipref_thread *thread)
{
	/* queries made inside the resolver (ours included) are never synthesized: no loops */
	if (!iq)
		return module_wait_module;
	if (!thread)
		return servfail(qstate, iq, NULL, LDNS_EDE_OTHER, "ipref: unexpected thread");
	switch (iq->phase) {
	case IPREF_TXT:
		if (iq->txt_done)
			return decide(qstate, iq, thread);
		if (!wakeup_fired(&iq->wakeup))
			return module_wait_subquery;
		/* the TXT lookup goes on detached, and fills the cache for later questions */
		verbose(VERB_ALGO, "ipref: the TXT lookup took longer than lookup-wait-ms");
		return finish_native(qstate, iq, thread, ANSWER_BRIEF_TTL);
	case IPREF_CONTEXTS:
		if (still_waiting(iq)) {
			if (!wakeup_fired(&iq->wakeup))
				return module_wait_subquery;
			give_up_names(iq);
		}
		return answer_records(qstate, iq, thread);
	case IPREF_RANGES:
	case IPREF_GWCTL:
	case IPREF_PTR_RANGES:
	case IPREF_PTR:
		return on_gwctl(qstate, iq, thread);
	case IPREF_NATIVE:
	case IPREF_PASSED:
		break;
	}
	return module_wait_module;
}

void query_operate(struct module_qstate *qstate, int event, int id)
{
	struct ipref_query *iq = qstate->minfo[id];
	struct ipref_thread *thread = ipref_thread_of(qstate, id);

	switch ((enum module_ev)event) {
	case module_event_new:
		qstate->ext_state[id] = on_new(qstate, id);
		break;
	case module_event_pass:
		qstate->ext_state[id] = on_pass(qstate, iq, thread);
		break;
	case module_event_moddone:
		qstate->ext_state[id] = on_moddone(qstate, iq, thread);
		break;
	default:
		qstate->ext_state[id] = module_error;
		break;
	}
	/*
	 * A state can outlive its answer (a sub-query other states still wait on), and a timer
	 * that fired then would run this module again on a finished query: no timer survives it.
	 */
	iq = qstate->minfo[id];
	if (iq &&
	    (qstate->ext_state[id] == module_finished || qstate->ext_state[id] == module_error))
		wakeup_cancel(&iq->wakeup);
}

/* A context name's A or AAAA answer, for every record naming it. */
static void take_context(struct module_qstate *sub, struct module_qstate *super,
			 struct ipref_query *iq, int id)
{
	unsigned bit = sub->qinfo.qtype == LDNS_RR_TYPE_A ? SYNTH_FAMILY_V4 : SYNTH_FAMILY_V6;
	struct ipref_query *sq = sub->minfo[id];
	struct dns_msg *msg = sub->return_msg;
	int rcode = sub->return_rcode;

	/*
	 * The lookup may be a client's question that the module answered with encoded addresses
	 * (the name is a gateway's and has AA records of its own): a gateway is reached at its
	 * native address, which that question kept.
	 */
	if (sq && sq->native) {
		msg = sq->native;
		rcode = sq->native_rcode;
	}
	for (size_t k = 0; k < iq->record_count; k++) {
		struct ipref_record *rec = &iq->records[k];

		if (!(rec->waiting & bit) || rec->name_len != sub->qinfo.qname_len ||
		    query_dname_compare(rec->name_wire, sub->qinfo.qname) != 0)
			continue;
		rec->waiting &= ~bit;
		gwname_take_answer(super, iq, rec, &sub->qinfo, rcode, msg);
	}
	gwname_keep(super, &sub->qinfo, rcode, msg);
}

bool query_gw_reply(struct module_qstate *qstate, int id, const struct ipr_ctl_reply *reply)
{
	struct ipref_query *iq = qstate->minfo[id];

	if (!iq || !iq->gw_pending)
		return false;
	if (reply && iq->phase == IPREF_GWCTL) {
		for (size_t i = 0; i < iq->ea_count; i++) {
			if (iq->eas[i].id != reply->hdr.id || iq->eas[i].status != 0xff)
				continue;
			if (!gwlink_take_ea(&iq->eas[i], reply))
				iq->gw_rc = -EBADMSG;
			break;
		}
	} else if (reply && iq->phase == IPREF_PTR) {
		iq->ptr->rc = gwlink_take_name(reply, iq->ptr->name, &iq->ptr->ttl);
	}
	return --iq->gw_pending == 0;
}

void query_gw_failed(struct module_qstate *qstate, int id, int rc)
{
	struct ipref_query *iq = qstate->minfo[id];

	if (!iq)
		return;
	iq->gw_pending = 0;
	iq->gw_rc = rc;
	/* run again from the event loop, not from inside whatever call noticed the loss */
	if (wakeup_arm(&iq->wakeup, qstate, 0) < 0)
		verbose(VERB_OPS, "ipref: no timer: the query waits for its deadline");
}

void query_clear(struct module_qstate *qstate, int id)
{
	struct ipref_query *iq = qstate->minfo[id];
	struct ipref_thread *thread = ipref_thread_of(qstate, id);

	if (iq) {
		wakeup_cancel(&iq->wakeup);
		/* no late reply may reach a query that is gone */
		if (iq->gw_pending && thread)
			gwwait_forget(&thread->wait, qstate);
	}
	qstate->minfo[id] = NULL;
}

void query_inform_super(struct module_qstate *qstate, int id, struct module_qstate *super)
{
	struct ipref_query *iq = super->minfo[id];
	uint16_t qtype = qstate->qinfo.qtype;

	if (!iq)
		return;
	if (iq->phase == IPREF_TXT && qtype == LDNS_RR_TYPE_TXT)
		txtlookup_take(super, iq, ipref_thread_of(super, id), &qstate->qinfo,
			       qstate->return_rcode, qstate->return_msg);
	else if (iq->phase == IPREF_CONTEXTS &&
		 (qtype == LDNS_RR_TYPE_A || qtype == LDNS_RR_TYPE_AAAA))
		take_context(qstate, super, iq, id);
}
