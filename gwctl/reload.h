/* Reloading the published sources off the event loop: one job at a time, applied in slices. */
#ifndef GWCTL_RELOAD_H
#define GWCTL_RELOAD_H

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
 * Asks for a reload of the published sources as they are now: starts a job, or, when one is
 * under way, another one after it. waiter (may be NULL: the daemon's own reloads, logged)
 * gets the answer. config_reloaded: the configuration was re-read first (said in answers and
 * the log). Returns 0, -EBUSY (too many waiters), -ENOMEM.
 */
IPR_MUST_CHECK int reloader_request(struct reloader *r, struct service *svc,
				    const struct reload_waiter *waiter, bool config_reloaded);

/* True while a collected job has slices to apply or an answer to give: the loop must not wait. */
bool reloader_busy(const struct reloader *r);

/* Inside the open transaction: applies the next slice. -errno dooms the batch. */
IPR_MUST_CHECK int reloader_step(struct reloader *r, struct service *svc);

/*
 * After the batch: committed or not. A finished job is answered (E_STORE when its last slice
 * did not commit) and the next one started; a job whose slice did not commit is abandoned
 * (returns true: worth another try once the store recovers).
 */
bool reloader_after_batch(struct reloader *r, struct service *svc, bool committed,
			  reload_reply_fn *reply, void *ctx);

#endif
