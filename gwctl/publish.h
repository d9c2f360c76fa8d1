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

/* The sources last applied, so that an unchanged set is not applied again. */
struct publish_state {
	bool applied;
	struct source_set last; /* digests only are kept; mappings are freed */
	char config_digest[32]; /* what of the configuration shapes the set */
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

void publish_state_deinit(struct publish_state *state);

#endif
