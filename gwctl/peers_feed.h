/* The other gateways' changes, heard from the shared store and told to this gateway's subscribers.
 */
#ifndef GWCTL_PEERS_FEED_H
#define GWCTL_PEERS_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct service;

/*
 * On the PostgreSQL store (docs/store.md, "Hearing the other gateways"), a connection of its own
 * (pgstore_conn.h) listens for the change log's notifications; each change another gateway (or
 * a hand in psql) made to a mapping is queued, and peers_feed_apply, between batches, reads the
 * row again and records it for the subscribers as EV_ADDED, or EV_REMOVED when it is gone.
 * When what was missed is unknown (the queue overflowed, or the log was trimmed past changes
 * not read yet) the subscribers are closed instead, to subscribe again and read a snapshot.
 * On SQLite (one gateway) there is no feed: peers_feed_open gives NULL and every function
 * takes NULL as a feed with nothing to do.
 */
struct peers_feed;

IPR_MUST_CHECK int peers_feed_open(struct service *svc, struct peers_feed **out, char *msg,
				   size_t msg_size);
void peers_feed_free(struct peers_feed *f);

/* The socket to wait on (-1: none now) and for what; ms until process is due (-1: none). */
int peers_feed_fd(const struct peers_feed *f, bool *want_write);
int64_t peers_feed_timeout_ms(const struct peers_feed *f, int64_t now_ms);
/* Does what is due on the connection: its changes are queued, never applied here. */
void peers_feed_process(struct peers_feed *f, int64_t now_ms);

/*
 * Was the next read of the log held back for want of room in the queue, and is there room
 * now (peers_feed_apply made some)? peers_feed_process is then due at once: a catch-up is read
 * no faster than it is applied, and nothing is dropped for room.
 */
bool peers_feed_room_again(const struct peers_feed *f);
/* Changes queued and not yet applied, or a start-over due. */
bool peers_feed_waiting(const struct peers_feed *f);
/*
 * Has the feed read where its reading starts (true without a feed)? A subscriber's snapshot
 * must not be read before: a change committed in between would be in neither.
 */
bool peers_feed_started(const struct peers_feed *f);
/*
 * Outside any transaction: reads each queued change's row again and records it (service_record)
 * for the caller to publish. Returns how many it recorded; a change whose row could not be read
 * (the store away) stays queued for the next call.
 */
size_t peers_feed_apply(struct peers_feed *f);

/* "ready", "connecting" or "down (why)", for STATUS. */
void peers_feed_describe(const struct peers_feed *f, char *buf, size_t size);

#endif
