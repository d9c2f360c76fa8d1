/* Applying a reload on the loop: slices in the batch's transaction, then the answers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "reload_impl.h"

/*
 * Applies up to max more of a job's removals and additions inside the open transaction,
 * recording events; returns 1 when the job is all applied, 0 when more is left, -errno when
 * the store failed (the batch is doomed). A value taken since the job compared is a line in
 * its report.
 */
static int apply_slice(struct service *svc, struct publish_job *job, size_t max)
{
	struct publish_report *report = &job->report;
	size_t done = 0;
	int rc;

	while (job->removed < job->removal_count && done < max) {
		const struct ipr_mapping *m = &job->removals[job->removed++];

		/* only reloads remove rows from files, one at a time: the row is still there */
		rc = store_delete(svc->store, m, 0);
		if (rc < 0)
			return rc;
		service_record(svc, IPR_CTL_EV_REMOVED, m);
		report->removed++;
		done++;
	}
	while (job->added < job->addition_count && done < max) {
		struct ipr_mapping m = job->additions[job->added++];

		rc = store_insert(svc->store, &m);
		if (rc == -EEXIST) {
			/* taken since the job compared (an allocation in between): said, not fatal
			 */
			publish_conflict_line(report, &m);
			continue;
		}
		if (rc < 0)
			return rc;
		service_record(svc, IPR_CTL_EV_ADDED, &m);
		report->added++;
		done++;
	}
	return job->removed == job->removal_count && job->added == job->addition_count;
}

int reloader_step(struct reloader *r, struct service *svc)
{
	struct publish_job *job = r->job;
	int rc = 1;

	if (!job || r->running || r->finished)
		return 0;
	if (job->rc == 0 && !job->unchanged) {
		size_t before = job->removed + job->added;

		rc = apply_slice(svc, job, RELOAD_SLICE);
		r->wrote = job->removed + job->added != before;
		if (rc < 0)
			return rc;
	}
	if (rc == 1) {
		publish_job_finish(job, &svc->publish, svc->names);
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

/* A reload staged in the batch's transaction is the applied one, or never happened. */
static void settle_staged(struct reloader *r, struct service *svc, bool committed)
{
	if (committed) {
		publish_committed(&svc->publish);
		return;
	}
	if (svc->publish.staged)
		r->retry = true;
	publish_rolled_back(&svc->publish);
}

void reloader_after_batch(struct reloader *r, struct service *svc, bool committed,
			  reload_reply_fn *reply, void *ctx)
{
	bool abandoned = !committed && r->wrote;
	char msg[512];
	int status;

	settle_staged(r, svc, committed);
	r->wrote = false;
	if (!r->job || r->running || (!r->finished && !abandoned))
		return;
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
		if (reloader_start(r, svc) < 0)
			refuse_waiters(r, svc, reply, ctx);
	}
	if (abandoned)
		r->retry = true; /* worth another try once the store recovers */
}
