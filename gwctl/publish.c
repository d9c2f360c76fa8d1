/* Reloading published sources: load, skip when unchanged, diff against the store, apply. */
#include "publish.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "store.h"

#define PAGE 256

/* Appends a line to a report's list while there is room; the total counts them all. */
__attribute__((format(printf, 4, 0))) static void
add_line(char lines[][PUBLISH_LINE_MAX], size_t *count, size_t *total, const char *fmt, va_list ap)
{
	(*total)++;
	if (*count < PUBLISH_REPORT_LINES)
		vsnprintf(lines[(*count)++], PUBLISH_LINE_MAX, fmt, ap);
}

/* A problem: the reload keeps the previous mappings. */
__attribute__((format(printf, 2, 3))) static void report_line(struct publish_report *report,
							      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(report->lines, &report->count, &report->total, fmt, ap);
	va_end(ap);
}

/* A note: something left out for now, not an error of the sources. */
__attribute__((format(printf, 2, 3))) static void report_note(struct publish_report *report,
							      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_line(report->notes, &report->note_count, &report->note_total, fmt, ap);
	va_end(ap);
}

/* The family of our own Internet side: where gateway names of external hosts must point. */
static int internet_family(const struct gwctl_config *cfg)
{
	for (size_t i = 0; i < cfg->gateway_count; i++) {
		if (cfg->gateways[i].family == AF_INET)
			return AF_INET;
	}
	return cfg->gateway_count ? AF_INET6 : AF_INET;
}

/* Notes a gateway name still to be asked about, so the loop can start its query. */
static void want_name(struct publish_job *job, const char *name)
{
	for (size_t i = 0; i < job->unresolved_count; i++) {
		if (!strcmp(job->unresolved[i], name))
			return;
	}
	if (job->unresolved_count < NAMES_MAX)
		snprintf(job->unresolved[job->unresolved_count++], sizeof(job->unresolved[0]), "%s",
			 name);
}

/*
 * External hosts whose gateway is a DNS name get its address, from the copy of what the
 * daemon's resolver knew when the job started; until the name resolves they are left out (and
 * noted), which is not an error of the sources.
 */
static void resolve_contexts(struct publish_job *job)
{
	struct source_set *set = &job->set;
	struct publish_report *report = &job->report;
	size_t kept = 0;

	for (size_t i = 0; i < set->count; i++) {
		struct ipr_mapping *m = &set->mappings[i];
		const char *why = "no resolver";
		uint8_t address[16];
		int rc = -ENOENT;

		if (m->context.kind == IPR_CONTEXT_NAME && m->kind == IPR_MAP_STATIC_EXTERNAL) {
			if (job->names)
				rc = names_known(job->names, m->context.name, job->family, address,
						 &why);
			if (rc == -EAGAIN) {
				want_name(job, m->context.name);
				report_note(report, "%s: %s: resolving", m->source,
					    m->context.name);
				continue;
			}
			if (rc < 0) {
				report_note(report, "%s: %s does not resolve (%s)", m->source,
					    m->context.name, why);
				continue;
			}
			m->context.kind =
				job->family == AF_INET ? IPR_CONTEXT_IPV4 : IPR_CONTEXT_IPV6;
			memset(m->context.name, 0, sizeof(m->context.name));
			memcpy(m->context.ipv6, address, 16);
		}
		if (kept != i) { /* most sets keep everything: no copy onto itself */
			set->mappings[kept] = *m;
			if (set->places)
				set->places[kept] = set->places[i];
		}
		kept++;
	}
	set->count = kept;
}

void publish_config(const struct gwctl_config *cfg, struct sources_config *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < cfg->gateway_count && out->gateway_count < SOURCES_GATEWAY_MAX;
	     i++) {
		struct ipr_context *c = &out->gateways[out->gateway_count++];
		c->kind = cfg->gateways[i].family == AF_INET ? IPR_CONTEXT_IPV4 : IPR_CONTEXT_IPV6;
		memcpy(c->ipv6, cfg->gateways[i].addr, 16);
	}
	for (size_t i = 0; i < cfg->gateway_name_count && out->gateway_count < SOURCES_GATEWAY_MAX;
	     i++) {
		struct ipr_context *c = &out->gateways[out->gateway_count++];
		c->kind = IPR_CONTEXT_NAME;
		memcpy(c->name, cfg->gateway_names[i], sizeof(c->name));
	}
	out->dynamic_min = cfg->dynamic_ref_min;
	out->dynamic_max = cfg->dynamic_ref_max;
	const struct config_prefix *ranges[2] = { &cfg->encoded_ipv4, &cfg->encoded_ipv6 };
	for (int i = 0; i < 2; i++) {
		out->encoded[i].enabled = ranges[i]->enabled;
		out->encoded[i].prefix = config_prefix_get(ranges[i]);
	}
	out->zone_count = cfg->zone_count;
	for (size_t i = 0; i < cfg->zone_count; i++) {
		memcpy(out->zones[i].public_path, cfg->zones[i].public_path, SOURCES_PATH_MAX);
		memcpy(out->zones[i].internal_path, cfg->zones[i].internal_path, SOURCES_PATH_MAX);
	}
	out->hosts_count = cfg->hosts_count;
	for (size_t i = 0; i < cfg->hosts_count; i++)
		memcpy(out->hosts_paths[i], cfg->hosts_paths[i], SOURCES_PATH_MAX);
}

/* A total order over every field a file decides; 0 means the store already has it as wanted. */
static int mapping_order(const struct ipr_mapping *a, const struct ipr_mapping *b)
{
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if ((c = memcmp(a->address, b->address, 16)) != 0 ||
	    (c = ipr_context_compare(&a->context, &b->context)) != 0 ||
	    (c = ipr_ref_compare(&a->ref, &b->ref)) != 0 || (c = strcmp(a->name, b->name)) != 0)
		return c;
	return strcmp(a->source, b->source);
}

static int by_mapping(const void *a, const void *b)
{
	return mapping_order(*(const struct ipr_mapping *const *)a,
			     *(const struct ipr_mapping *const *)b);
}

/* Pointers to the n mappings at first, sorted by mapping_order; NULL when out of memory. */
static const struct ipr_mapping **sorted(const struct ipr_mapping *first, size_t n)
{
	const struct ipr_mapping **p = malloc((n ? n : 1) * sizeof(*p));

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++)
		p[i] = &first[i];
	qsort(p, n, sizeof(*p), by_mapping);
	return p;
}

static void digests_of(const struct source_set *set, const char *config_digest,
		       struct publish_digests *out)
{
	memset(out, 0, sizeof(*out));
	out->zone_count = set->zone_digest_count;
	out->hosts_count = set->hosts_digest_count;
	memcpy(out->zone, set->zone_digests, sizeof(out->zone));
	memcpy(out->hosts, set->hosts_digests, sizeof(out->hosts));
	memcpy(out->config, config_digest, sizeof(out->config));
}

static void free_files(struct publish_state *state)
{
	for (size_t i = 0; i < state->file_count; i++)
		free(state->files[i]);
	free(state->files);
	state->files = NULL;
	state->file_count = 0;
}

/* Takes the set's file list when it differs from the one kept, so the watcher can follow it. */
static void keep_files(struct publish_state *state, struct source_set *set)
{
	bool same = set->file_count == state->file_count;

	for (size_t i = 0; same && i < set->file_count; i++)
		same = strcmp(set->files[i], state->files[i]) == 0;
	if (same)
		return;
	free_files(state);
	state->files = set->files;
	state->file_count = set->file_count;
	set->files = NULL;
	set->file_count = set->file_cap = 0;
	state->files_changes++;
}

/* Every mapping the store holds from files; the caller frees *out. */
static int current_from_files(struct store *store, struct ipr_mapping **out, size_t *count)
{
	struct ipr_mapping *all = NULL;
	size_t n = 0, cap = 0;
	uint64_t cursor = 0;
	int got;

	for (;;) {
		if (cap - n < PAGE) {
			struct ipr_mapping *grown = realloc(all, (cap + PAGE * 4) * sizeof(*all));
			if (!grown) {
				free(all);
				return -ENOMEM;
			}
			all = grown;
			cap += PAGE * 4;
		}
		got = store_list_from_files(store, &cursor, all + n, PAGE);
		if (got < 0) {
			free(all);
			return got;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*out = all;
	*count = n;
	return 0;
}

static void describe(const struct ipr_mapping *m, char *buf, size_t size)
{
	char address[64], ref[IPR_REF_TEXT_MAX];

	inet_ntop(m->family, m->address, address, sizeof(address));
	ipr_ref_format(&m->ref, ref);
	snprintf(buf, size, "%s %s (ref %s)", ipr_mapping_is_local(m) ? "host" : "encoded address",
		 address, ref);
}

/* A value the addition needs is held by a mapping not from a file (one from a file is removed). */
static int held_by_others(struct store *reader, const struct ipr_mapping *m, bool *held)
{
	struct ipr_mapping found;
	int rc, tries = ipr_mapping_is_local(m) ? 1 : 2;

	*held = false;
	for (int t = 0; t < tries && !*held; t++) {
		if (ipr_mapping_is_local(m))
			rc = store_find_ref(reader, &m->ref, &found);
		else if (t == 0)
			rc = store_find_encoded(reader, m->family, m->address, &found);
		else
			rc = store_find_remote(reader, m->family, &m->context, &m->ref, &found);
		if (rc == -ENOENT)
			continue;
		if (rc == -EBADMSG) { /* a broken row still holds its value */
			*held = true;
			break;
		}
		if (rc < 0)
			return rc;
		*held = !(found.source[0] == '/' && (found.kind == IPR_MAP_PUBLISHED ||
						     found.kind == IPR_MAP_STATIC_EXTERNAL));
	}
	return 0;
}

void publish_conflict_line(struct publish_report *report, const struct ipr_mapping *m)
{
	char what[128];

	describe(m, what, sizeof(what));
	report_line(report,
		    "%s: %s is already mapped by a mapping not from a file (see gwctl list)",
		    m->source, what);
}

/*
 * Compares the set with what the store holds from files, through the job's own read-only
 * connection: what to remove, what to add (in the files' order), and additions whose values
 * mappings not from a file hold (problems: nothing is applied then).
 */
static int diff(struct publish_job *job, struct store *reader)
{
	const struct source_set *set = &job->set;
	struct ipr_mapping *current = NULL;
	const struct ipr_mapping **have = NULL, **want = NULL;
	size_t current_count = 0, i = 0, k = 0;
	bool *wanted_present = calloc(set->count ? set->count : 1, sizeof(bool));
	int rc;

	if (!wanted_present)
		return -ENOMEM;
	rc = current_from_files(reader, &current, &current_count);
	if (rc < 0)
		goto out;
	/* both sides sorted, then one merge: hundreds of thousands of mappings stay cheap */
	have = sorted(current, current_count);
	want = sorted(set->mappings, set->count);
	job->removals = malloc((current_count ? current_count : 1) * sizeof(*job->removals));
	job->additions = malloc((set->count ? set->count : 1) * sizeof(*job->additions));
	if (!have || !want || !job->removals || !job->additions) {
		rc = -ENOMEM;
		goto out;
	}
	while (i < current_count) {
		int order = k < set->count ? mapping_order(have[i], want[k]) : -1;

		if (order > 0) {
			k++; /* wanted and not there: added below, in the files' order */
			continue;
		}
		if (order == 0) {
			wanted_present[want[k++] - set->mappings] = true;
			i++;
			continue;
		}
		job->removals[job->removal_count++] = *have[i++];
	}
	for (k = 0; k < set->count; k++) {
		bool held;

		if (wanted_present[k])
			continue;
		rc = held_by_others(reader, &set->mappings[k], &held);
		if (rc < 0)
			goto out;
		if (held)
			publish_conflict_line(&job->report, &set->mappings[k]);
		else
			job->additions[job->addition_count++] = set->mappings[k];
	}
	rc = job->report.total ? -EINVAL : 0;
out:
	free(have);
	free(want);
	free(current);
	free(wanted_present);
	return rc;
}

int publish_job_prepare(struct publish_job *job, const struct gwctl_config *cfg,
			const struct publish_state *state, const struct names *names)
{
	crypto_generichash_state hash;
	uint64_t names_generation_now = names ? names_generation(names) : 0;

	memset(job, 0, sizeof(*job));
	publish_config(cfg, &job->cfg);
	job->family = internet_family(cfg);
	snprintf(job->database, sizeof(job->database), "%s", cfg->database);
	snprintf(job->store_conninfo, sizeof(job->store_conninfo), "%s", cfg->store_conninfo);
	snprintf(job->gateway_id, sizeof(job->gateway_id), "%s", cfg->gateway_id);
	job->held_valid = state->staged || state->applied;
	job->held = state->staged ? state->pending : state->last;
	if (names) {
		job->names = names_copy(names);
		if (!job->names)
			return -ENOMEM;
	}
	/* what shapes the set besides the files: the configuration and the names resolved */
	crypto_generichash_init(&hash, NULL, 0, sizeof(job->config_digest));
	crypto_generichash_update(&hash, (const unsigned char *)&job->cfg, sizeof(job->cfg));
	crypto_generichash_update(&hash, (const unsigned char *)&names_generation_now,
				  sizeof(names_generation_now));
	crypto_generichash_final(&hash, job->config_digest, sizeof(job->config_digest));
	return 0;
}

void publish_job_run(struct publish_job *job)
{
	char line[SOURCES_PATH_MAX + SOURCES_REASON_MAX + 32], msg[256];
	struct store *reader = NULL;
	int rc = sources_load(&job->cfg, &job->set);

	job->loaded = rc == 0;
	if (rc == 0)
		resolve_contexts(job);
	if (rc == -EINVAL) {
		for (size_t i = 0; i < job->set.error_count; i++) {
			source_error_format(&job->set.errors[i], line, sizeof(line));
			report_line(&job->report, "%s", line);
		}
	}
	if (rc < 0)
		goto out;
	digests_of(&job->set, (const char *)job->config_digest, &job->digests);
	if (job->held_valid && memcmp(&job->held, &job->digests, sizeof(job->digests)) == 0) {
		job->unchanged = true;
		goto out;
	}
	rc = store_open_reader_spec(
		&(struct store_spec){ job->database, job->store_conninfo, job->gateway_id },
		&reader, msg, sizeof(msg));
	if (rc == 0)
		rc = diff(job, reader);
	if (rc < 0 && rc != -EINVAL && rc != -ENOMEM)
		rc = -EIO;
out:
	store_close(reader);
	job->rc = rc;
}

void publish_job_finish(struct publish_job *job, struct publish_state *state, struct names *names)
{
	const char *why;
	uint8_t address[16];

	state->reloads++;
	if (job->loaded)
		keep_files(state, &job->set);
	/* names no one asked about yet: their answers start another reload */
	for (size_t i = 0; names && i < job->unresolved_count; i++)
		(void)!names_lookup(names, job->unresolved[i], job->family, address, &why);
	if (job->rc == 0 && job->unchanged) {
		state->unchanged++;
	} else if (job->rc == 0 && job->report.total == 0) {
		/* applied only once the transaction commits (publish_committed) */
		state->pending = job->digests;
		state->staged = true;
		job->report.changed = job->report.added || job->report.removed;
	} else {
		state->failures++;
	}
}

void publish_job_free(struct publish_job *job)
{
	if (!job)
		return;
	source_set_free(&job->set);
	names_copy_free(job->names);
	free(job->removals);
	free(job->additions);
	free(job);
}

void publish_committed(struct publish_state *state)
{
	if (!state->staged)
		return;
	state->last = state->pending;
	state->applied = true;
	state->staged = false;
}

void publish_rolled_back(struct publish_state *state)
{
	state->staged = false;
}

void publish_state_deinit(struct publish_state *state)
{
	free_files(state);
}
