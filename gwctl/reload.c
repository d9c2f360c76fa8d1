/* Starting reloads: the one entry point, the configuration first, the sources off the loop. */
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
	rc = publish_job_prepare(r->job, &svc->cfg, &svc->publish, svc->names);
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

/* A job for waiter (NULL: the daemon): started now, or queued after the one under way. */
static int queue_job(struct reloader *r, struct service *svc, const struct reload_waiter *waiter,
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

int reloader_begin(struct reloader *r, struct service *svc, const struct reload_waiter *waiter,
		   bool config, char *msg, size_t msg_size)
{
	if (config && reload_config(svc, msg, msg_size) < 0) {
		if (waiter)
			return -EINVAL; /* answered at once: the sources are not read either */
		log_error("%s: the running settings stay", msg);
		config = false; /* the sources are read again all the same: they may have changed */
	}
	return queue_job(r, svc, waiter, config);
}

size_t reloader_request(struct reloader *r, struct service *svc, const struct reload_waiter *waiter,
			uint8_t *reply, size_t reply_cap)
{
	char msg[512] = "";
	int rc;

	svc->counters.requests[IPR_CTL_RELOAD]++;
	rc = reloader_begin(r, svc, waiter, true, msg, sizeof(msg));
	if (rc == 0)
		return 0;
	if (rc == -EINVAL) {
		svc->counters.errors[IPR_CTL_E_SOURCES]++;
		return service_error_reply(reply, reply_cap, IPR_CTL_RELOAD, waiter->id,
					   IPR_CTL_E_SOURCES, msg);
	}
	svc->counters.errors[IPR_CTL_E_BUSY]++;
	return service_error_reply(reply, reply_cap, IPR_CTL_RELOAD, waiter->id, IPR_CTL_E_BUSY,
				   rc == -EBUSY ? "too many reloads waiting" : strerror(-rc));
}

void reloader_ask(struct reloader *r, bool config)
{
	r->asked = true;
	r->asked_config |= config;
}

void reloader_tick(struct reloader *r)
{
	if (r->retry)
		r->asked = true;
	r->retry = false;
}

void reloader_start_asked(struct reloader *r, struct service *svc)
{
	char msg[512];

	if (!r->asked)
		return;
	if (reloader_begin(r, svc, NULL, r->asked_config, msg, sizeof(msg)) < 0)
		log_error("reload: cannot start reading the published sources");
	r->asked = r->asked_config = false;
}

bool reloader_busy(const struct reloader *r)
{
	return r->asked || (r->job && !r->running);
}
