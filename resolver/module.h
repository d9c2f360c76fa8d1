/* The ipref module's state: global (per Unbound configuration), per worker thread, per query. */
#ifndef MODULE_H
#define MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gwlink.h"
#include "gwwait.h"
#include "settings.h"
#include "synth.h"
#include "txtkeep.h"
#include "wakeup.h"

struct module_qstate;
struct module_env;
struct ub_packed_rrset_key;
struct dns_msg;

/*
 * The module's counters, shared by the worker threads (relaxed atomic adds: a count, not a
 * synchronisation), logged at deinit and reported to gwctld as component "resolver", so that
 * `gwctl stats` shows them as resolver.NAME.
 */
struct ipref_counters {
	uint64_t queries;     /* A/AAAA questions from clients */
	uint64_t synthesized; /* answered with encoded addresses (or no data) from AA records */
	uint64_t native;      /* no valid AA record: the native answer */
	uint64_t malformed;   /* AA records that did not parse, or broken TXT RDATA */
	uint64_t bad_context; /* AA records whose context cannot be a remote gateway */
	uint64_t bogus;	      /* TXT that failed DNSSEC validation */
	uint64_t failed;      /* SERVFAIL because gwctld was down, slow, full or refused */
	uint64_t ptr_answers; /* PTR questions for encoded addresses answered from mappings */
	uint64_t over_quota;  /* SERVFAIL: gwctld refused a new name over the client's quota */
};

#define IPREF_COUNT(thread, field, n) \
	__atomic_add_fetch(&(thread)->counters->field, (uint64_t)(n), __ATOMIC_RELAXED)

/* Counters go to gwctld this often, by whichever worker thread notices first. */
#define IPREF_REPORT_SECONDS 2

struct ipref_thread {
	struct gwlink link;
	struct gwwait wait;		 /* the queries waiting for gwctld's replies on link */
	struct txtkeep txt;		 /* the answers of the module's TXT lookups (query.c) */
	struct ipref_counters *counters; /* the env's, shared */
	int64_t *next_report;		 /* the env's, shared (unix seconds) */
	const struct ipref_thread *all;	 /* every worker's, for the links' counters */
	size_t all_count;
};

/* Held by Unbound's dynlib wrapper between init and deinit; only counters change between. */
struct ipref_env {
	struct resolver_settings settings;
	struct ipref_thread *threads;
	size_t thread_count;
	struct ipref_counters counters;
	int64_t next_report;
};

/* Sends the counters to gwctld when they are due (non-blocking; the reply is skipped later). */
void ipref_report_counters(struct ipref_thread *thread, int64_t now);

enum ipref_phase {
	IPREF_NATIVE,	/* the native A/AAAA lookup runs in the modules below */
	IPREF_TXT,	/* waiting for the TXT sub-query */
	IPREF_CONTEXTS, /* waiting for context names' address lookups */
	/* suspended on gwctld (module_wait_reply) until the replies are in or timeout-ms passed */
	IPREF_RANGES,	  /* a new connection's RANGES, before the AA records are judged */
	IPREF_GWCTL,	  /* the GET_EA replies */
	IPREF_PTR_RANGES, /* a new connection's RANGES, before a PTR question is judged */
	IPREF_PTR,	  /* the LOOKUP_EA reply */
	IPREF_PASSED,	  /* not ours after all: passed down untouched */
};

/* A PTR question for an encoded address. */
struct ipref_ptr {
	struct synth_ip ip;
	int rc; /* gwlink_take_name's */
	char name[IPR_NAME_MAX + 1];
	uint32_t ttl;
};

/* One AA record being turned into an encoded address. */
struct ipref_record {
	struct ipr_addr aa;
	struct synth_plan plan;
	uint8_t name_wire[SYNTH_NAME_WIRE_MAX]; /* NEEDS_NAME: the context name */
	size_t name_len;
	unsigned waiting; /* SYNTH_FAMILY_* lookups still running */
	bool have[2];	  /* [0] IPv4 and [1] IPv6 context address found */
	struct synth_ip context[2];
	uint32_t name_ttl;
	bool name_insecure; /* a context lookup that was not validated as secure */
	bool name_failed;   /* a context lookup that failed (SERVFAIL, bogus) */
	bool name_bogus;    /* one that failed DNSSEC validation */
};

/* Per-query state, in the query's region. */
struct ipref_query {
	enum ipref_phase phase;
	int started_no_cache_store;
	bool gateway_lookup; /* started as another query's gateway-name lookup (query.c) */
	struct dns_msg *native;
	int native_rcode;
	bool txt_done;
	bool txt_failed; /* the TXT lookup failed (SERVFAIL and such): no lasting decision */
	bool txt_bogus;
	bool txt_secure;
	bool used_bogus; /* CD let bogus data through: the answer is this client's alone */
	struct synth_txt txt;
	int txt_found; /* synth_txt_parse's result: 0 with valid records, else -ENOENT */
	struct ub_packed_rrset_key **chain;
	size_t chain_count;
	uint8_t *owner; /* the TXT RRset's owner, where the answer goes */
	size_t owner_len;
	struct ipref_record records[SYNTH_AA_MAX];
	size_t record_count;
	struct gwlink_ea eas[SYNTH_AA_MAX]; /* the GET_EA requests sent, and their replies */
	uint8_t ea_record[SYNTH_AA_MAX];    /* the index in records of each */
	size_t ea_count;
	unsigned why;	   /* enum unusable (query.c): why records gave no context address */
	bool secure;	   /* the TXT and the context names used were validated as secure */
	size_t gw_pending; /* replies from gwctld still awaited (gwwait entries) */
	int gw_rc;	   /* 0, or why the wait on gwctld failed (-ETIMEDOUT, -ECONNRESET...) */
	struct ipref_ptr *ptr;
	/* bounds the wait after the native answer (lookup-wait-ms) and on gwctld (timeout-ms) */
	struct wakeup wakeup;
	int ede;	      /* sldns_ede_code for a SERVFAIL, or -1 (none) */
	const char *ede_text; /* static text */
};

/* The thread's state for qstate, or NULL when its thread number is unexpected. */
struct ipref_thread *ipref_thread_of(struct module_qstate *qstate, int id);

/* query.c: the module's operate and inform_super. */
void query_operate(struct module_qstate *qstate, int event, int id);
void query_inform_super(struct module_qstate *qstate, int id, struct module_qstate *super);
/*
 * query.c, for gwwait.c: a reply the query waited for (NULL: the connection's RANGES);
 * true when it has all it waits for and may run on.
 */
bool query_gw_reply(struct module_qstate *qstate, int id, const struct ipr_ctl_reply *reply);
/* query.c, for gwwait.c: the requests the query waits for are lost (rc); it runs again soon. */
void query_gw_failed(struct module_qstate *qstate, int id, int rc);
/* query.c: the query ends or is dropped; nothing of it may run later. */
void query_clear(struct module_qstate *qstate, int id);

#endif
