/* A per-query timer on the worker's event base that runs a suspended query again. */
#include "config.h"

#include <errno.h>

#include "wakeup.h"

#include "util/module.h"
#include "util/netevent.h"
#include "validator/validator.h"

int wakeup_arm(struct wakeup *w, struct module_qstate *qstate, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (!qstate->env->worker_base)
		return -ENOTSUP;
	/*
	 * Unbound's timer dispatch refuses (fatal_exit) any callback not on its list of known
	 * functions, so a module cannot bring its own. The validator's suspend callback is on the
	 * list and does exactly what is wanted: mesh_run on the query with module_event_pass,
	 * which reaches the module the query is suspended in.
	 */
	if (!w->timer) {
		w->timer = comm_timer_create(qstate->env->worker_base, validate_suspend_timer_cb,
					     qstate);
		if (!w->timer)
			return -ENOMEM;
	}
	comm_timer_set(w->timer, &tv);
	return 0;
}

bool wakeup_fired(const struct wakeup *w)
{
	/* the event loop clears "set" just before it runs the callback */
	return w->timer && !comm_timer_is_set(w->timer);
}

void wakeup_cancel(struct wakeup *w)
{
	if (!w->timer)
		return;
	comm_timer_delete(w->timer);
	w->timer = NULL;
}
