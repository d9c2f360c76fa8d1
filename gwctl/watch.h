/* Watching the published sources' files, so that an edit is applied without a reload command. */
#ifndef GWCTL_WATCH_H
#define GWCTL_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"

/* the configured sources, and the files their $INCLUDEs pulled in */
#define WATCH_FILES_MAX (3 * CONFIG_SOURCES_MAX + 64)

/*
 * Folders are watched rather than files, because editors and tools replace a file by renaming
 * a new one over it. Bursts of changes are gathered by a short quiet period.
 */
struct watch_file {
	int wd;
	char name[256]; /* the file's name within its folder */
};

struct watch {
	int inotify_fd;
	int timer_fd;
	size_t count;
	struct watch_file files[WATCH_FILES_MAX];
};

IPR_MUST_CHECK int watch_open(struct watch *w);
void watch_close(struct watch *w);
/*
 * Watches the folders of cfg's zone and hosts files and of the extra files (those the last
 * reload read through $INCLUDE), replacing what was watched before. Returns how many of the
 * files were not watched before: a file first named by a load was read before its watch
 * began, so an edit in between is seen only by reading it once more (watch_recheck).
 */
size_t watch_set(struct watch *w, const struct gwctl_config *cfg, char *const *extra,
		 size_t extra_count);
/* Starts the quiet period as a change would: the sources are read again after it. */
void watch_recheck(struct watch *w);
/* Reads inotify events; a change to a watched file (re)starts the quiet period. */
void watch_read(struct watch *w);
/* Reads the quiet-period timer; true when the sources should be reloaded now. */
bool watch_due(struct watch *w);

#endif
