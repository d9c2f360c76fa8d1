/* A per-query timer on the worker's event base that runs a suspended query again. */
#ifndef WAKEUP_H
#define WAKEUP_H

#include <stdbool.h>

#include "err.h"

struct module_qstate;
struct comm_timer;

/*
 * Lives in the query's module state. A module that suspends a query (module_wait_subquery,
 * module_wait_reply) arms it; when it fires, the query's module runs again with
 * module_event_pass and wakeup_fired() tells it why. The module's clear entry point must call
 * wakeup_cancel, so that no timer fires on a query that Unbound has ended or dropped.
 */
struct wakeup {
	struct comm_timer *timer; /* NULL until first armed */
};

/* Fires after ms milliseconds (re-arming moves it); 0, or -ENOMEM / -ENOTSUP (no event base). */
IPR_MUST_CHECK int wakeup_arm(struct wakeup *w, struct module_qstate *qstate, unsigned ms);

/* Armed, and its time has come (it stays fired until armed again or cancelled). */
bool wakeup_fired(const struct wakeup *w);

/* Stops and frees the timer; safe on one never armed, and twice. */
void wakeup_cancel(struct wakeup *w);

#endif
