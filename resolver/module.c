/* The ipref module's entry points as Unbound's dynlib wrapper calls them, and its global state. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"

#include "dynlibmod/dynlibmod.h"
#include "util/config_file.h"
#include "util/data/msgreply.h"
#include "util/log.h"
#include "util/module.h"
#include "util/regional.h"
#include "util/alloc.h"

/* The six symbols dynlib looks up (resolver/exports.map keeps everything else hidden). */
int init(struct module_env *env, int id);
void deinit(struct module_env *env, int id);
void operate(struct module_qstate *qstate, enum module_ev event, int id,
	     struct outbound_entry *entry);
void inform_super(struct module_qstate *qstate, int id, struct module_qstate *super);
void clear(struct module_qstate *qstate, int id);
size_t get_mem(struct module_env *env, int id);

/*
 * Each thread's table of TXT answers (txtkeep.h) holds twice the questions a thread may have in
 * flight, so an answer waits for its native one even when every question is new, and 512 bytes
 * each on average: an AA record is some 40 bytes. It is 1 MiB with Unbound's defaults.
 */
static int txt_table_init(struct txtkeep *k, const struct config_file *cfg)
{
	size_t entries =
		2 * (cfg->num_queries_per_thread > 0 ? (size_t)cfg->num_queries_per_thread : 1024);

	return txtkeep_init(k, entries, entries * 512);
}

static void threads_free(struct ipref_env *ie)
{
	for (size_t i = 0; i < ie->thread_count; i++) {
		gwwait_deinit(&ie->threads[i].wait);
		gwlink_deinit(&ie->threads[i].link);
		txtkeep_deinit(&ie->threads[i].txt);
	}
	free(ie->threads);
	ie->threads = NULL;
}

static struct ipref_env *env_of(struct module_env *env, int id)
{
	struct dynlibmod_env *de = env->modinfo[id];

	return de ? de->dyn_env : NULL;
}

struct ipref_thread *ipref_thread_of(struct module_qstate *qstate, int id)
{
	struct ipref_env *ie = env_of(qstate->env, id);
	int n = qstate->env->alloc ? qstate->env->alloc->thread_num : -1;

	if (!ie || n < 0 || (size_t)n >= ie->thread_count)
		return NULL;
	return &ie->threads[n];
}

void ipref_report_counters(struct ipref_thread *thread, int64_t now)
{
	enum { OWN = 9, ALL = OWN + GWLINK_COUNTER_COUNT };
	static const char *const own_names[OWN] = { "queries",	    "synthesized", "native",
						    "malformed_aa", "bogus_txt",   "failed",
						    "ptr_answers",  "bad_context", "over_quota" };
	const struct ipref_counters *c = thread->counters;
	const uint64_t *fields[OWN] = { &c->queries,	 &c->synthesized, &c->native,
					&c->malformed,	 &c->bogus,	  &c->failed,
					&c->ptr_answers, &c->bad_context, &c->over_quota };
	const char *names[ALL];
	uint64_t values[ALL] = { 0 };
	int64_t due = __atomic_load_n(thread->next_report, __ATOMIC_RELAXED);

	/* one thread wins each period; the others go on at once */
	if (now < due ||
	    !__atomic_compare_exchange_n(thread->next_report, &due, now + IPREF_REPORT_SECONDS,
					 false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	for (size_t i = 0; i < OWN; i++) {
		names[i] = own_names[i];
		values[i] = __atomic_load_n(fields[i], __ATOMIC_RELAXED);
	}
	/* the gwctld links' counters, summed over the worker threads */
	for (size_t i = 0; i < GWLINK_COUNTER_COUNT; i++)
		names[OWN + i] = gwlink_counter_names[i];
	for (size_t t = 0; t < thread->all_count; t++)
		gwlink_counters_add(&thread->all[t].link, values + OWN);
	/* a RANGES that an earlier report's new connection asked for is read here, if no query did
	 */
	gwwait_drain(&thread->wait);
	gwlink_report(&thread->link, "resolver", names, values, ALL);
	gwwait_sync(&thread->wait);
}

/* Puts the Extended DNS Error of a SERVFAIL the module gave into the reply (ede: yes). */
static int servfail_ede(struct query_info *qinfo, struct module_qstate *qstate,
			struct reply_info *rep, int rcode, struct edns_data *edns,
			struct edns_option **opt_list_out, struct comm_reply *repinfo,
			struct regional *region, struct timeval *start_time, int id, void *arg)
{
	struct ipref_query *iq;

	if (!qstate || !qstate->env->cfg->ede || !qstate->minfo[id])
		return 1;
	iq = qstate->minfo[id];
	if (iq->ede != LDNS_EDE_NONE && region)
		(void)edns_opt_list_append_ede(opt_list_out, region, (sldns_ede_code)iq->ede,
					       iq->ede_text);
	return 1;
}

int init(struct module_env *env, int id)
{
	struct dynlibmod_env *de = env->modinfo[id];
	const char *named = getenv(SETTINGS_PATH_ENV);
	const char *path = named && named[0] ? named : SETTINGS_DEFAULT_PATH;
	struct ipref_env *ie = calloc(1, sizeof(*ie));
	char msg[512] = "";
	int rc;

	if (!ie) {
		log_err("ipref: out of memory");
		return 0;
	}
	rc = settings_load(path, &ie->settings, msg, sizeof(msg));
	/* only the default file may be missing; a file named in the environment must exist */
	if (rc < 0 && !(rc == -ENOENT && path != named)) {
		log_err("ipref: %s", msg);
		free(ie);
		return 0;
	}
	ie->thread_count = env->cfg->num_threads > 0 ? (size_t)env->cfg->num_threads : 1;
	ie->threads = calloc(ie->thread_count, sizeof(*ie->threads));
	if (!ie->threads) {
		log_err("ipref: out of memory");
		free(ie);
		return 0;
	}
	for (size_t i = 0; i < ie->thread_count; i++) {
		gwlink_init(&ie->threads[i].link, &ie->settings);
		gwwait_init(&ie->threads[i].wait, &ie->threads[i].link);
		if (txt_table_init(&ie->threads[i].txt, env->cfg) < 0) {
			log_err("ipref: out of memory");
			threads_free(ie);
			free(ie);
			return 0;
		}
		ie->threads[i].counters = &ie->counters;
		ie->threads[i].next_report = &ie->next_report;
		ie->threads[i].all = ie->threads;
		ie->threads[i].all_count = ie->thread_count;
	}
	/* dynlib passes callbacks as void *, which ISO C cannot cast a function pointer to */
	inplace_cb_reply_func_type *callback = servfail_ede;
	void *cb;

	memcpy(&cb, &callback, sizeof(cb));
	if (!de->inplace_cb_register_wrapped(cb, inplace_cb_reply_servfail, NULL, env, id)) {
		log_err("ipref: could not register the SERVFAIL callback");
		threads_free(ie);
		free(ie);
		return 0;
	}
	de->dyn_env = ie;
	log_info("ipref: gwctl socket %s, timeout %u ms, %zu worker threads", ie->settings.socket,
		 ie->settings.timeout_ms, ie->thread_count);
	return 1;
}

void deinit(struct module_env *env, int id)
{
	struct dynlibmod_env *de = env->modinfo[id];
	struct ipref_env *ie = de ? de->dyn_env : NULL;
	const struct ipref_counters *c;

	if (!ie)
		return;
	c = &ie->counters;
	de->inplace_cb_delete_wrapped(env, inplace_cb_reply_servfail, id);
	verbose(VERB_OPS,
		"ipref: %llu queries, %llu synthesized, %llu native, %llu malformed AA, "
		"%llu bogus TXT, %llu failed, %llu PTR answers, %llu bad contexts, %llu over quota",
		(unsigned long long)c->queries, (unsigned long long)c->synthesized,
		(unsigned long long)c->native, (unsigned long long)c->malformed,
		(unsigned long long)c->bogus, (unsigned long long)c->failed,
		(unsigned long long)c->ptr_answers, (unsigned long long)c->bad_context,
		(unsigned long long)c->over_quota);
	threads_free(ie);
	free(ie);
	de->dyn_env = NULL;
}

void operate(struct module_qstate *qstate, enum module_ev event, int id,
	     struct outbound_entry *entry)
{
	query_operate(qstate, (int)event, id);
}

void inform_super(struct module_qstate *qstate, int id, struct module_qstate *super)
{
	query_inform_super(qstate, id, super);
}

void clear(struct module_qstate *qstate, int id)
{
	query_clear(qstate, id);
}

size_t get_mem(struct module_env *env, int id)
{
	struct ipref_env *ie = env_of(env, id);
	size_t bytes;

	if (!ie)
		return 0;
	bytes = sizeof(*ie) + ie->thread_count * sizeof(*ie->threads);
	for (size_t i = 0; i < ie->thread_count; i++)
		bytes += txtkeep_memory(&ie->threads[i].txt);
	return bytes;
}
