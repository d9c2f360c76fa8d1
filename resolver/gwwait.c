/* Queries suspended on gwctld: replies read on the worker's event base resume their queries. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "gwwait.h"
#include "module.h"

#include "services/mesh.h"
#include "util/module.h"
#include "util/netevent.h"
#include "util/ub_event.h"

void gwwait_init(struct gwwait *w, struct gwlink *link)
{
	memset(w, 0, sizeof(*w));
	w->link = link;
	w->ev_fd = -1;
}

static void free_event(struct ub_event *ev)
{
	ub_event_del(ev);
	ub_event_free(ev);
}

/* The event whose callback runs is freed when the callback returns, not under its feet. */
static void release_event(struct gwwait *w)
{
	if (!w->ev)
		return;
	if (w->ev == w->dispatching)
		w->retired = w->ev;
	else
		free_event(w->ev);
	w->ev = NULL;
	w->ev_fd = -1;
}

static void remove_at(struct gwwait *w, size_t i)
{
	w->entries[i] = w->entries[--w->count];
	if (w->count == 0)
		release_event(w);
}

/* Every request in flight failed with rc: their queries run again at once and see why. */
static void fail_all(struct gwwait *w, int rc)
{
	while (w->count > 0) {
		struct gwwait_entry e = w->entries[0];

		remove_at(w, 0);
		query_gw_failed(e.qstate, e.module_id, rc);
	}
}

void gwwait_sync(struct gwwait *w)
{
	if (w->connection == w->link->connection)
		return;
	w->connection = w->link->connection;
	release_event(w); /* it watched a closed socket */
	fail_all(w, -ECONNRESET);
}

int gwwait_open(struct gwwait *w)
{
	int rc = gwlink_open(w->link);

	gwwait_sync(w);
	return rc;
}

/* Hands one reply to the queries waiting for it; those that have all they wait for run on. */
static void deliver(struct gwwait *w, int kind, const struct ipr_ctl_reply *reply)
{
	uint32_t id = reply->hdr.id;
	size_t i = 0;

	/* RANGES may have several queries waiting for it; a request has one */
	while (i < w->count) {
		struct gwwait_entry e = w->entries[i];

		if (e.id != id) {
			i++;
			continue;
		}
		remove_at(w, i);
		if (query_gw_reply(e.qstate, e.module_id, kind == GWLINK_RANGES ? NULL : reply))
			mesh_run(e.qstate->env->mesh, e.qstate->mesh_info, module_event_pass, NULL);
		if (kind != GWLINK_RANGES)
			return;
		i = 0; /* mesh_run may have changed the table */
	}
}

static void on_readable(int fd, short bits, void *arg)
{
	struct gwwait *w = arg;

	(void)fd;
	(void)bits;
	w->dispatching = w->ev;
	/* a bounded batch: the rest waits for the next turn of the loop (the event stays ready) */
	for (int n = 0; n < 256 && w->count > 0; n++) {
		struct ipr_ctl_reply reply;
		int rc = gwlink_receive(w->link, &reply);

		if (rc <= 0) {
			if (rc < 0)
				gwwait_sync(w);
			break;
		}
		deliver(w, rc, &reply);
	}
	w->dispatching = NULL;
	if (w->retired) {
		free_event(w->retired);
		w->retired = NULL;
	}
}

/* Watches the link's connection from qstate's worker event base; 0 or -ENOMEM. */
static int watch(struct gwwait *w, struct module_qstate *qstate)
{
	int fd = ipr_ctl_client_fd(w->link->client);

	if (w->ev && w->ev_fd == fd)
		return 0;
	release_event(w);
	if (!qstate->env->worker_base)
		return -ENOTSUP;
	/*
	 * A plain libevent callback: unlike comm_timer and comm_point, ub_event dispatch checks no
	 * list of known functions (util/fptr_wlist.c), so a module may bring its own.
	 */
	w->ev = ub_event_new(comm_base_internal(qstate->env->worker_base), fd,
			     UB_EV_READ | UB_EV_PERSIST, on_readable, w);
	if (!w->ev)
		return -ENOMEM;
	if (ub_event_add(w->ev, NULL) != 0) {
		ub_event_free(w->ev);
		w->ev = NULL;
		return -ENOMEM;
	}
	w->ev_fd = fd;
	return 0;
}

int gwwait_add(struct gwwait *w, struct module_qstate *qstate, int module_id, uint32_t id)
{
	int rc;

	gwwait_sync(w);
	if (!w->link->client)
		return -ECONNRESET;
	if (w->count == GWWAIT_MAX)
		return -ENOBUFS;
	rc = watch(w, qstate);
	if (rc < 0)
		return rc;
	w->entries[w->count++] = (struct gwwait_entry){ id, module_id, qstate };
	return 0;
}

void gwwait_forget(struct gwwait *w, const struct module_qstate *qstate)
{
	size_t i = 0;

	while (i < w->count) {
		if (w->entries[i].qstate == qstate)
			remove_at(w, i);
		else
			i++;
	}
}

void gwwait_drain(struct gwwait *w)
{
	struct ipr_ctl_reply reply;

	if (w->count == 0)
		for (int n = 0; n < 256 && gwlink_receive(w->link, &reply) > 0; n++)
			continue;
	gwwait_sync(w);
}

void gwwait_deinit(struct gwwait *w)
{
	/* freed with the worker's event base, which deleted its events; only the memory is ours */
	w->ev = NULL;
	w->count = 0;
}
