/* Applying the published sources (zone pairs, hosts files) to the store, atomically. */
#ifndef GWCTL_PUBLISH_H
#define GWCTL_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "names.h"
#include "sources.h"

#define PUBLISH_REPORT_LINES 32
#define PUBLISH_LINE_MAX     256

/* What a reload says: its outcome and the first problems, each "FILE:LINE: reason". */
struct publish_report {
	bool changed; /* the store's published and static mappings changed */
	size_t added, removed;
	size_t total; /* problems found, also those not listed */
	size_t count; /* lines listed */
	char lines[PUBLISH_REPORT_LINES][PUBLISH_LINE_MAX];
	/* not errors: external hosts left out for now because their gateway name is unresolved */
	size_t note_total, note_count;
	char notes[PUBLISH_REPORT_LINES][PUBLISH_LINE_MAX];
};

/* What a set of sources was read from: equal digests mean an unchanged set. */
struct publish_digests {
	size_t zone_count, hosts_count;
	uint8_t zone[SOURCES_ZONE_MAX][SOURCES_DIGEST_BYTES];
	uint8_t hosts[SOURCES_HOSTS_MAX][SOURCES_DIGEST_BYTES];
	uint8_t config[32]; /* what of the configuration (and names resolved) shapes the set */
};

/*
 * The sources last applied, so that an unchanged set is not applied again. A reload written
 * into the open transaction is only staged: it becomes the applied one when that transaction
 * commits (publish_committed), and is forgotten when it is rolled back (publish_rolled_back),
 * so that a reload whose commit failed is applied again by the next one.
 */
struct publish_state {
	bool applied;
	struct publish_digests last;
	bool staged;
	struct publish_digests pending;
	uint64_t reloads, failures, unchanged;
	char **files; /* every file the last good read went through, $INCLUDEs too */
	size_t file_count;
	uint64_t files_changes; /* counts changes of files[], for the watcher */
};

struct names;

/* The loader's view of the configuration. */
void publish_config(const struct gwctl_config *cfg, struct sources_config *out);

/*
 * One reload of the published sources, driven by reload.c. prepare (on the event loop) takes
 * what the job needs from the daemon; run (on a thread of its own, touching nothing else)
 * reads and checks every source and compares it with the store through a read-only
 * connection of its own; the loop then applies the removals and additions a slice at a time
 * (reload_apply.c); finish (on the loop) keeps what the daemon must remember.
 */
struct publish_job {
	/* from prepare */
	struct sources_config cfg;
	uint8_t config_digest[32];
	bool held_valid;
	struct publish_digests held; /* what the store holds, or will once committed */
	struct names *names;	     /* a copy of what was known; NULL: no resolver */
	int family;		     /* of our Internet side: where gateway names must point */
	char database[CONFIG_PATH_MAX];
	char store_conninfo[CONFIG_CONNINFO_MAX]; /* "": SQLite at database */
	char gateway_id[CONFIG_NAME_MAX + 1];
	/* from run */
	int rc;	     /* 0; -EINVAL: problems, listed in report, nothing is applied; -ENOMEM; -EIO */
	bool loaded; /* every source read without error: its file list is worth watching */
	bool unchanged;
	struct publish_digests digests;
	struct source_set set;
	struct publish_report report;
	size_t unresolved_count; /* gateway names not asked about when the job started */
	char unresolved[NAMES_MAX][IPR_NAME_MAX + 1];
	struct ipr_mapping *removals, *additions;
	size_t removal_count, addition_count;
	/* from apply: how far it went */
	size_t removed, added;
};

IPR_MUST_CHECK int publish_job_prepare(struct publish_job *job, const struct gwctl_config *cfg,
				       const struct publish_state *state,
				       const struct names *names);
void publish_job_run(struct publish_job *job);
/* A line of the report: m's value is held by a mapping not from a file. */
void publish_conflict_line(struct publish_report *report, const struct ipr_mapping *m);
/*
 * After run (and the slices, when there was something to apply): stages the digests, keeps
 * the file list for the watcher, asks names nobody asked about yet.
 */
void publish_job_finish(struct publish_job *job, struct publish_state *state, struct names *names);
void publish_job_free(struct publish_job *job);

/* The open transaction committed: a reload staged in it is the applied one now. */
void publish_committed(struct publish_state *state);
/* The open transaction was rolled back: a reload staged in it never happened. */
void publish_rolled_back(struct publish_state *state);

void publish_state_deinit(struct publish_state *state);

#endif
