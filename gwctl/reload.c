/* Reloading the published sources off the event loop: one job at a time, applied in slices. */
#include "reload.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "reload_impl.h"

int reloader_open(struct reloader **out)
{
	struct reloader *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->event_fd < 0) {
		int rc = -errno;
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void reloader_free(struct reloader *r)
{
	if (!r)
		return;
	if (r->running)
		pthread_join(r->thread, NULL);
	publish_job_free(r->job);
	close(r->event_fd);
	free(r);
}

int reloader_fd(const struct reloader *r)
{
	return r->event_fd;
}

static void *run(void *arg)
{
	struct reloader *r = arg;
	uint64_t one = 1;

	/* on a busy machine the event loop gets the processor first: reading may take longer */
	(void)!setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
	publish_job_run(r->job);
	(void)!write(r->event_fd, &one, sizeof(one));
	return NULL;
}

int reloader_start(struct reloader *r, struct service *svc)
{
	int rc;

	r->job = calloc(1, sizeof(*r->job));
	if (!r->job)
		return -ENOMEM;
	rc = publish_job_prepare(svc, r->job);
	if (rc == 0)
		rc = -pthread_create(&r->thread, NULL, run, r);
	if (rc < 0) {
		publish_job_free(r->job);
		r->job = NULL;
		return rc;
	}
	r->running = true;
	r->finished = false;
	return 0;
}

static int add_waiter(struct waiters *w, const struct reload_waiter *waiter, bool config_reloaded)
{
	if (waiter && w->count == RELOAD_WAITERS_MAX)
		return -EBUSY;
	if (waiter)
		w->list[w->count++] = *waiter;
	else
		w->by_daemon = true;
	w->config_reloaded |= config_reloaded;
	return 0;
}

int reloader_request(struct reloader *r, struct service *svc, const struct reload_waiter *waiter,
		     bool config_reloaded)
{
	int rc;

	if (r->job) {
		/* the job under way may have read the files before this request: one more after */
		rc = add_waiter(&r->next, waiter, config_reloaded);
		if (rc == 0)
			r->again = true;
		return rc;
	}
	memset(&r->now, 0, sizeof(r->now));
	rc = add_waiter(&r->now, waiter, config_reloaded);
	return rc < 0 ? rc : reloader_start(r, svc);
}

void reloader_collect(struct reloader *r)
{
	uint64_t n;

	if (read(r->event_fd, &n, sizeof(n)) != sizeof(n) || !r->running)
		return;
	pthread_join(r->thread, NULL);
	r->running = false;
}

bool reloader_busy(const struct reloader *r)
{
	return r->job && !r->running;
}
