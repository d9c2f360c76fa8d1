/* Applying the published sources (zone pairs, hosts files) to the store, atomically. */
#ifndef GWCTL_PUBLISH_H
#define GWCTL_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
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

struct service;

/* The loader's view of the configuration. */
void publish_config(const struct gwctl_config *cfg, struct sources_config *out);

/*
 * Reads every source and, when all are good and something changed since the last reload,
 * makes the store's file-owned mappings equal to them inside the open transaction, in a
 * savepoint: on any error nothing of the reload remains and the previous mappings stay.
 * Returns 0 (report->changed says whether anything was written), -EINVAL when a source has
 * errors or a mapping clashes with one in the store (listed in report), -EIO when the store
 * failed (the whole batch is doomed), -ENOMEM.
 */
IPR_MUST_CHECK int publish_reload(struct service *svc, struct publish_report *report);

/* The open transaction committed: a reload staged in it is the applied one now. */
void publish_committed(struct publish_state *state);
/* The open transaction was rolled back: a reload staged in it never happened. */
void publish_rolled_back(struct publish_state *state);

void publish_state_deinit(struct publish_state *state);

#endif
