/* gwctld's one home for reload: its one entry point and what the loop calls around batches. */
#ifndef GWCTL_RELOAD_H
#define GWCTL_RELOAD_H

/*
 * SIGHUP, start-up, a watched file, a gateway name's answer and RELOAD requests all begin in
 * reload.c; the configuration is re-read on the loop (reload_config.c), the published sources
 * off it, one job at a time on a thread of its own (publish.c, which knows nothing of the
 * daemon), and applied in slices inside the batches' transactions (reload_apply.c).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Removals and additions applied per batch: a request waits behind one slice at most. */
#define RELOAD_SLICE 512
/* RELOAD requests that may wait for their answer at one time; more get E_BUSY. */
#define RELOAD_WAITERS_MAX 64

struct service;
struct reloader;

/* Who asked, so the answer reaches them once the reload is over (after its commit). */
struct reload_waiter {
	size_t client;
	uint32_t serial;
	uint32_t id;
};

/* Sends a reply to a waiter; provided by the server. */
typedef void reload_reply_fn(void *ctx, const struct reload_waiter *w, const uint8_t *msg,
			     size_t len);

IPR_MUST_CHECK int reloader_open(struct reloader **out);
/* Waits for a job still running on its thread. NULL is a no-op. */
void reloader_free(struct reloader *r);

/* Readable when a job's thread is done: then call reloader_collect. */
int reloader_fd(const struct reloader *r);
void reloader_collect(struct reloader *r);

/*
 * The one way a reload starts, for a RELOAD request and for the daemon's own reasons alike:
 * the configuration re-read first when config says so, then the published sources read off
 * the loop (a job started now, or another one queued after the one under way), applied in
 * slices and answered after their commit. waiter: who gets the answer, or NULL for the
 * daemon, whose outcome goes to the log. A bad configuration keeps the running settings; for
 * a waiter it is an answer at once (-EINVAL, msg says why), for the daemon a logged error and
 * the sources are read all the same. Returns 0, -EINVAL, -EBUSY (too many waiters), -ENOMEM.
 */
IPR_MUST_CHECK int reloader_begin(struct reloader *r, struct service *svc,
				  const struct reload_waiter *waiter, bool config, char *msg,
				  size_t msg_size);

/*
 * RELOAD: reloader_begin for waiter, counted. Returns the length of an answer given now in
 * reply (a bad configuration, too many waiting), 0 when it comes after the commit.
 */
size_t reloader_request(struct reloader *r, struct service *svc, const struct reload_waiter *waiter,
			uint8_t *reply, size_t reply_cap);

/*
 * The daemon's own reasons (start-up, a watched file, a gateway name's new answer; SIGHUP
 * with config, the configuration too): noted now, begun with the next batch.
 */
void reloader_ask(struct reloader *r, bool config);
/* Inside a batch: begins the reload the daemon asked for, if any. */
void reloader_start_asked(struct reloader *r, struct service *svc);
/* The sweep timer's tick: a reload whose commit failed is asked for again. */
void reloader_tick(struct reloader *r);

/*
 * True while a reload is asked for, or a collected job has slices to apply or an answer to
 * give: the loop must not wait.
 */
bool reloader_busy(const struct reloader *r);

/* Inside the open transaction: applies the next slice. -errno dooms the batch. */
IPR_MUST_CHECK int reloader_step(struct reloader *r, struct service *svc);

/*
 * After the batch: committed or not. A reload staged in it is the applied one now, or never
 * happened. A finished job is answered (E_STORE when its last slice did not commit) and the
 * next one started; a job whose slice did not commit is abandoned. Either failure is asked
 * for again at the next tick, once the store may have recovered.
 */
void reloader_after_batch(struct reloader *r, struct service *svc, bool committed,
			  reload_reply_fn *reply, void *ctx);

#endif
