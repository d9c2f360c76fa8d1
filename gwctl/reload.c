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
#include "service.h"

struct waiters {
	size_t count;
	struct reload_waiter list[RELOAD_WAITERS_MAX];
	bool by_daemon;	      /* the daemon asked too: its outcome goes to the log */
	bool config_reloaded; /* the configuration was re-read for it */
};

struct reloader {
	int event_fd;
	pthread_t thread;
	bool running;  /* the job is on its thread */
	bool finished; /* applied (or nothing to apply): to be answered after the batch */
	bool wrote;    /* the job wrote in the batch being processed */
	struct publish_job *job;
	struct waiters now;  /* of the job under way */
	bool again;	     /* asked for while a job was under way: another one follows */
	struct waiters next; /* of the one that follows */
};

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

/* Starts a job for the waiters in r->now. */
static int start(struct reloader *r, struct service *svc)
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
	return rc < 0 ? rc : start(r, svc);
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

int reloader_step(struct reloader *r, struct service *svc)
{
	struct publish_job *job = r->job;
	int rc = 1;

	if (!job || r->running || r->finished)
		return 0;
	if (job->rc == 0 && !job->unchanged) {
		size_t before = job->removed + job->added;

		rc = publish_job_apply(svc, job, RELOAD_SLICE);
		r->wrote = job->removed + job->added != before;
		if (rc < 0)
			return rc;
	}
	if (rc == 1) {
		publish_job_finish(svc, job);
		r->finished = true;
	}
	return 0;
}

/* The one-line outcome of a job, as answers and the log give it. */
static int summary(const struct reloader *r, const struct service *svc, char *msg, size_t size)
{
	const struct publish_job *job = r->job;
	const struct publish_report *report = &job->report;
	char prefix[CONFIG_PATH_MAX + 16] = "";

	if (r->now.config_reloaded)
		snprintf(prefix, sizeof(prefix), "reloaded %s; ", svc->config_path);
	if (job->rc == 0 && report->total == 0 && report->changed)
		snprintf(msg, size, "%spublished sources: %zu mappings added, %zu removed", prefix,
			 report->added, report->removed);
	else if (job->rc == 0 && report->total == 0)
		snprintf(msg, size, "%spublished sources unchanged", prefix);
	else if (job->rc == 0 || job->rc == -EINVAL)
		snprintf(msg, size,
			 "%spublished sources have %zu problem%s: previous mappings kept", prefix,
			 report->total, report->total == 1 ? "" : "s");
	else
		snprintf(msg, size, "%sreload failed: %s", prefix, strerror(-job->rc));
	if (job->rc == 0 && report->total == 0)
		return IPR_CTL_OK;
	return job->rc == 0 || job->rc == -EINVAL ? IPR_CTL_E_SOURCES : IPR_CTL_E_STORE;
}

static void log_outcome(const struct reloader *r, const char *msg, int status)
{
	const struct publish_report *report = &r->job->report;
	bool quiet = status == IPR_CTL_OK && !report->changed && !r->now.config_reloaded;

	if (status != IPR_CTL_OK)
		log_error("%s", msg);
	else if (!quiet)
		log_info("%s", msg);
	for (size_t i = 0; i < report->count; i++)
		log_error("%s", report->lines[i]);
	for (size_t i = 0; i < report->note_count; i++)
		log_warn("%s", report->notes[i]);
	if (report->total > report->count)
		log_error("... and %zu more problems", report->total - report->count);
}

/* The summary, then each problem "FILE:LINE: reason" and each note on a line of its own. */
static void answer(const struct reloader *r, int status, const char *msg, reload_reply_fn *reply,
		   void *ctx)
{
	static uint8_t buf[IPR_CTL_MSG_MAX];
	const struct publish_report *report = &r->job->report;
	char line[PUBLISH_LINE_MAX + 32];

	for (size_t i = 0; i < r->now.count; i++) {
		const struct reload_waiter *w = &r->now.list[i];
		struct ipr_ctl_builder b;
		size_t len;

		ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_RELOAD | IPR_CTL_REPLY, (uint8_t)status,
			      w->id);
		ipr_ctl_put_text(&b, IPR_CTL_A_MESSAGE, msg);
		for (size_t k = 0; status != IPR_CTL_E_STORE && k < report->count; k++)
			service_put_line(&b, report->lines[k]);
		for (size_t k = 0; status != IPR_CTL_E_STORE && k < report->note_count; k++) {
			snprintf(line, sizeof(line), "note: %s", report->notes[k]);
			service_put_line(&b, line);
		}
		if (status != IPR_CTL_E_STORE && report->total > report->count) {
			snprintf(line, sizeof(line), "... and %zu more",
				 report->total - report->count);
			service_put_line(&b, line);
		}
		if (ipr_ctl_finish(&b, &len) < 0)
			len = service_error_reply(buf, sizeof(buf), IPR_CTL_RELOAD, w->id,
						  (uint8_t)status, msg);
		reply(ctx, w, buf, len);
	}
}

/* The next job could not start (no memory, no thread): its waiters are told so. */
static void refuse_waiters(struct reloader *r, struct service *svc, reload_reply_fn *reply,
			   void *ctx)
{
	static const char why[] = "reload: cannot start reading the published sources";
	uint8_t buf[256];

	log_error("%s", why);
	for (size_t i = 0; i < r->now.count; i++) {
		size_t len = service_error_reply(buf, sizeof(buf), IPR_CTL_RELOAD,
						 r->now.list[i].id, IPR_CTL_E_BUSY, why);
		svc->counters.errors[IPR_CTL_E_BUSY]++;
		reply(ctx, &r->now.list[i], buf, len);
	}
	r->now.count = 0;
}

bool reloader_after_batch(struct reloader *r, struct service *svc, bool committed,
			  reload_reply_fn *reply, void *ctx)
{
	bool abandoned = !committed && r->wrote;
	char msg[512];
	int status;

	r->wrote = false;
	if (!r->job || r->running || (!r->finished && !abandoned))
		return false;
	if (abandoned) {
		/* what this slice wrote is gone: the remaining removals and additions no longer
		 * fit the store; a later reload compares afresh */
		snprintf(msg, sizeof(msg),
			 "reload: the store could not commit the published sources");
		status = IPR_CTL_E_STORE;
		svc->publish.failures++;
		log_error("%s", msg);
	} else {
		status = summary(r, svc, msg, sizeof(msg));
		if (r->now.by_daemon || status != IPR_CTL_OK)
			log_outcome(r, msg, status);
	}
	svc->counters.errors[status] += status != IPR_CTL_OK ? r->now.count : 0;
	answer(r, status, msg, reply, ctx);
	publish_job_free(r->job);
	r->job = NULL;
	r->finished = false;
	if (r->again) {
		r->again = false;
		r->now = r->next;
		memset(&r->next, 0, sizeof(r->next));
		if (start(r, svc) < 0)
			refuse_waiters(r, svc, reply, ctx);
	}
	return abandoned;
}
