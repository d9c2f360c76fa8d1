/* What the control socket's files share: clients, the batch, the server (server.h). */
#ifndef GWCTL_SERVER_IMPL_H
#define GWCTL_SERVER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bucket.h"
#include "ctl_msg.h"
#include "err.h"
#include "clients.h"
#include "reload.h"
#include "server.h"
#include "watch.h"
#include "peers_feed.h"

/* Bytes a client may have waiting to be sent before it counts as stuck. */
#define QUEUE_CAP (2u << 20)

/* epoll tags of the loop's own descriptors; a client's tag is its slot */
enum {
	TAG_LISTEN = -1,
	TAG_SIGNAL = -2,
	TAG_TIMER = -3,
	TAG_WATCH = -4,
	TAG_QUIET = -5,
	TAG_NAMES = -6,
	TAG_IDLE = -7,
	TAG_RELOAD = -8,
	TAG_FLUSH = -9,
	TAG_FEED = -10,
	TAG_STORE = -11,
};

struct client {
	int fd; /* -1: free slot */
	uid_t uid;
	pid_t pid;
	uint32_t serial;  /* changes each time the slot is reused */
	int64_t heard_ms; /* when it connected or last sent a request (ipr_clock_ms) */
	bool closing;	  /* close once the queue is flushed */
	bool readable;	  /* may have requests waiting: epoll said so and no read drained it */
	bool want_out;	  /* EPOLLOUT armed */
	/* output queue: messages framed by a 2-byte length, oldest at head */
	uint8_t *queue;
	size_t head, tail;
	bool asked_ranges; /* closed when the layout changes, so that it asks again */
	bool held_back;	   /* this batch: a request of it did not go ahead, nor may later ones */
	/* subscription */
	bool subscribed;
	bool snapshot_done;
	uint32_t sub_id;
	uint64_t snapshot_cursor;
};

struct batch_entry {
	size_t client;
	uint32_t serial;
	bool oversized; /* longer than any valid message: only its header was kept */
	bool deferred;	/* a RELOAD answered once the reload is over, not with this batch */
	struct service_ahead ahead; /* a GET_EA sent ahead of the batch (bind_ahead) */
	size_t len;
	uint8_t msg[IPR_CTL_MSG_MAX];
	size_t reply_len;
	uint8_t reply[IPR_CTL_MSG_MAX];
};

struct server {
	struct service *svc;
	int listen_fd;
	bool listen_inherited; /* systemd's socket unit owns the socket file: never unlink it */
	int epoll_fd;
	int signal_fd;
	int timer_fd;
	int idle_fd;  /* ticks to look for idle connections */
	int flush_fd; /* ticks every flush-interval-ms: commits since the last flush go to disk */
	bool refill_due;	     /* the reserve wants more than one refill could add */
	uint32_t refilled_unflushed; /* values added that no flush was asked for yet */
	struct clients_log refusals;
	struct ipr_bucket replaced_log; /* the replaced store is logged once a second at most */
	bool stop;
	bool sweep_due;
	struct reloader *reloader;
	uint64_t config_loads_seen;
	uint64_t files_changes_seen;
	struct watch watch;
	gid_t group; /* (gid_t)-1: none */
	struct client *clients;
	size_t client_cap;
	struct batch_entry *batch;
	size_t batch_len;
	struct service_ahead **ahead; /* the batch's requests sent ahead, commit_batch of room */
	size_t next_slot; /* where the next batch's first round starts, so no slot always leads */
	uint8_t scratch[IPR_CTL_MSG_MAX];
	/* the other gateways' changes (PostgreSQL store; NULL on SQLite) and its socket's arming */
	struct peers_feed *feed;
	int feed_fd;		  /* the socket armed in epoll, -1: none */
	uint32_t feed_events;	  /* what it is armed for */
	bool feed_ready;	  /* its socket was ready in this round of events */
	int64_t feed_due_ms;	  /* when the feed wants processing without its socket, -1: never */
	uint64_t feed_reconnects; /* connects + failures when it was armed: a new socket since */
};

/* Adds or changes fd in the loop's epoll set under tag. */
int server_arm(struct server *srv, int op, int fd, uint32_t events, int64_t tag);

/* server_listen.c: takes inherited_fd (systemd's), or makes the configured socket. */
IPR_MUST_CHECK int server_listen(struct server *srv, int inherited_fd, char *msg, size_t msg_size);

/* server_conn.c: the connections' slots and queues. */
void server_close_client(struct server *srv, struct client *c);
/* Bytes waiting to be sent to c. */
size_t server_queued(const struct client *c);
/* Queues a message for c; a client whose queue overflows is disconnected. */
void server_send(struct server *srv, struct client *c, const uint8_t *msg, size_t len);
/* Sends what the socket takes now; -1 when c was closed. */
int server_flush(struct server *srv, struct client *c);
void server_accept(struct server *srv);
/* The idle timer's tick: closes connections quiet for idle-timeout that wait for nothing. */
void server_close_idle(struct server *srv);
/* Fills the batch, one request per waiting connection per round. */
void server_read_batch(struct server *srv);
/* Some connection may have requests beyond what the last batch took. */
bool server_clients_waiting(const struct server *srv);

/* server_subs.c: SUBSCRIBE's answer; its snapshot and events follow. */
size_t server_subscribe(struct server *srv, struct client *c, const struct ipr_ctl_header *hdr,
			uint8_t *reply, size_t cap);
/* After a commit: its changes to every subscriber. */
void server_publish_pending(struct server *srv);
/* After a reload changed the layout: subscribers told, connections that asked RANGES closed. */
void server_tell_layout(struct server *srv);
/* Snapshot pages to subscribers, as fast as they read them. */
void server_stream_snapshots(struct server *srv);

/* server_feed.c: the other gateways' changes (peers_feed.h) driven by the loop. */
IPR_MUST_CHECK int server_feed_open(struct server *srv, char *msg, size_t msg_size);
void server_feed_close(struct server *srv);
/* After the events: processes the feed when its socket was ready or its time came. */
void server_feed_poll(struct server *srv, bool ready);
/* ms epoll_wait may sleep for the feed (-1: until its socket). */
int server_feed_wait_ms(const struct server *srv);
/* Changes heard and not yet told. */
bool server_feed_waiting(const struct server *srv);
/* Between batches: the changes heard read again and told to the subscribers. */
void server_feed_apply(struct server *srv);

/* server_batch.c: requests, sweeping and a reload's slices in one transaction, one commit. */
void server_process_batch(struct server *srv);
/* Tops up the reserve of values when allocations took from it (after the replies). */
void server_refill_reserve(struct server *srv);

#endif
