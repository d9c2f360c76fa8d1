/* Queries suspended on gwctld: a worker thread's table of requests awaiting replies. */
#ifndef GWWAIT_H
#define GWWAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct gwlink;
struct module_qstate;
struct ub_event;

/*
 * Bounds the requests one worker thread has in flight: a full table fails the query (SERVFAIL)
 * instead of growing. Unbound's default num-queries-per-thread (1024) times a typical one or
 * two requests per query fits.
 */
#define GWWAIT_MAX 4096

/* A request sent (or the connection's RANGES) and the query that waits for its reply. */
struct gwwait_entry {
	uint32_t id;
	int module_id;
	struct module_qstate *qstate;
};

/*
 * One per worker thread, used on that thread only. While requests are in flight, a read event
 * on the gwctld connection sits on the worker's event base: its callback reads the replies
 * and resumes each query when all it waits for is in (mesh_run with module_event_pass, as the
 * validator's suspend timer does). The event is freed as soon as nothing is in flight; since
 * Unbound clears every query (the module's clear entry point, gwwait_forget) before it frees a
 * worker's event base, the event never outlives its base.
 */
struct gwwait {
	struct gwlink *link;
	uint64_t connection; /* the link's connection the entries were sent on */
	struct ub_event *ev; /* watches the connection while count > 0 */
	int ev_fd;
	struct ub_event *dispatching; /* the event whose callback runs */
	struct ub_event *retired;     /* released during its own callback: freed after it */
	struct gwwait_entry entries[GWWAIT_MAX];
	size_t count;
};

void gwwait_init(struct gwwait *w, struct gwlink *link);

/*
 * gwlink_open for a query: connects when needed. After it (and after any other call on the
 * link), requests of a connection that was dropped are failed: their queries run again at once
 * (their wakeup fires) and find their gwctld result set to -ECONNRESET.
 */
IPR_MUST_CHECK int gwwait_open(struct gwwait *w);
void gwwait_sync(struct gwwait *w);

/*
 * Records that qstate waits for the reply to id, and watches the connection from qstate's
 * worker event base. 0, -ENOBUFS (table full) or -ENOMEM.
 */
IPR_MUST_CHECK int gwwait_add(struct gwwait *w, struct module_qstate *qstate, int module_id,
			      uint32_t id);

/* Removes every request of qstate (it ends, gives up, or is cleared). */
void gwwait_forget(struct gwwait *w, const struct module_qstate *qstate);

/*
 * With nothing in flight, no event reads the connection: reads away what came meanwhile (the
 * replies to REPORT_COUNTERS, late replies), so that they do not fill the socket.
 */
void gwwait_drain(struct gwwait *w);

/* Deinit: the event base is gone by now, so a left-over event is not touched. */
void gwwait_deinit(struct gwwait *w);

#endif
