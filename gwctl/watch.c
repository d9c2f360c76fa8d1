/* inotify on the sources' folders, with a quiet period before a reload. */
#include "watch.h"

#include <errno.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"

/* Changes closer together than this are applied together. */
#define QUIET_MS 300

int watch_open(struct watch *w)
{
	memset(w, 0, sizeof(*w));
	w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w->inotify_fd < 0 || w->timer_fd < 0) {
		int rc = -errno;
		watch_close(w);
		return rc;
	}
	return 0;
}

void watch_close(struct watch *w)
{
	if (w->inotify_fd > 0)
		close(w->inotify_fd);
	if (w->timer_fd > 0)
		close(w->timer_fd);
	w->inotify_fd = w->timer_fd = -1;
}

/* Adds path's folder; a folder already watched keeps its descriptor (inotify returns it). */
static void add(struct watch *w, const char *path)
{
	char dir_buf[CONFIG_PATH_MAX], base_buf[CONFIG_PATH_MAX];
	const char *base;
	int wd;

	if (w->count == WATCH_FILES_MAX)
		return;
	snprintf(dir_buf, sizeof(dir_buf), "%s", path);
	snprintf(base_buf, sizeof(base_buf), "%s", path);
	base = basename(base_buf);
	wd = inotify_add_watch(w->inotify_fd, dirname(dir_buf),
			       IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE |
				       IN_MOVED_FROM);
	if (wd < 0) {
		log_warn("cannot watch %s for changes: %s (reload by hand)", path, strerror(errno));
		return;
	}
	w->files[w->count].wd = wd;
	snprintf(w->files[w->count].name, sizeof(w->files[w->count].name), "%s", base);
	w->count++;
}

static bool watched(const struct watch_file *files, size_t count, int wd, const char *name)
{
	for (size_t i = 0; i < count; i++) {
		if (files[i].wd == wd && (!name || !strcmp(files[i].name, name)))
			return true;
	}
	return false;
}

size_t watch_set(struct watch *w, const struct gwctl_config *cfg, char *const *extra,
		 size_t extra_count)
{
	struct watch_file old[WATCH_FILES_MAX]; /* 29 KB, on a path taken once per reload */
	size_t old_count = w->count, fresh = 0;

	/*
	 * Folders still needed keep their descriptors, so that events already queued for them
	 * still match; only folders no longer needed are dropped.
	 */
	memcpy(old, w->files, old_count * sizeof(old[0]));
	w->count = 0;
	for (size_t i = 0; i < cfg->zone_count; i++) {
		add(w, cfg->zones[i].public_path);
		add(w, cfg->zones[i].internal_path);
	}
	for (size_t i = 0; i < cfg->hosts_count; i++)
		add(w, cfg->hosts_paths[i]);
	for (size_t i = 0; i < extra_count; i++)
		add(w, extra[i]);
	for (size_t i = 0; i < w->count; i++) {
		if (!watched(old, old_count, w->files[i].wd, w->files[i].name) &&
		    !watched(w->files, i, w->files[i].wd, w->files[i].name))
			fresh++;
	}
	for (size_t i = 0; i < old_count; i++) {
		if (!watched(old, i, old[i].wd, NULL) &&
		    !watched(w->files, w->count, old[i].wd, NULL))
			inotify_rm_watch(w->inotify_fd, old[i].wd);
	}
	return fresh;
}

void watch_recheck(struct watch *w)
{
	struct itimerspec quiet = { .it_value = { .tv_nsec = QUIET_MS * 1000000L } };

	timerfd_settime(w->timer_fd, 0, &quiet, NULL);
}

void watch_read(struct watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool relevant = false;
	ssize_t n;

	while ((n = read(w->inotify_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			for (size_t i = 0; i < w->count && ev->len; i++) {
				if (w->files[i].wd == ev->wd && !strcmp(w->files[i].name, ev->name))
					relevant = true;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	if (relevant)
		watch_recheck(w);
}

bool watch_due(struct watch *w)
{
	uint64_t ticks = 0;

	return read(w->timer_fd, &ticks, sizeof(ticks)) == sizeof(ticks) && ticks > 0;
}
