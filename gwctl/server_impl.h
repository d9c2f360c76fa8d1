/* What the control socket's files share: clients, the batch, the server (server.h). */
#ifndef GWCTL_SERVER_IMPL_H
#define GWCTL_SERVER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bucket.h"
#include "clients.h"
#include "reload.h"
#include "server.h"
#include "watch.h"

/* What every write is answered once the store's file is gone from under the daemon. */
#define STORE_REPLACED_REPLY "the store's file was deleted or replaced under gwctld: restart it"
/* Bytes a client may have waiting to be sent before it counts as stuck. */
#define QUEUE_CAP (2u << 20)
/* Snapshot pages are produced while a subscriber's queue is below this. */
#define SNAPSHOT_LOW_WATER (QUEUE_CAP / 4)
#define SNAPSHOT_PAGE	   32
#define SWEEP_ROUND	   256

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
	bool refill_due; /* the reserve wants more than one refill could add */
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
	size_t next_slot; /* where the next batch's first round starts, so no slot always leads */
	uint8_t scratch[IPR_CTL_MSG_MAX];
};

int arm(struct server *srv, int op, int fd, uint32_t events, int64_t tag);

/* server_listen.c */
int open_listener(struct server *srv, int inherited_fd, char *msg, size_t msg_size);

/* server_conn.c */
void close_client(struct server *srv, struct client *c);
size_t queued(const struct client *c);
void send_to(struct server *srv, struct client *c, const uint8_t *msg, size_t len);
int flush_client(struct server *srv, struct client *c);
void accept_clients(struct server *srv);
void close_idle_clients(struct server *srv);
void read_clients(struct server *srv);
bool clients_waiting(const struct server *srv);

/* server_subs.c */
size_t subscribe(struct server *srv, struct client *c, const struct ipr_ctl_header *hdr,
		 uint8_t *reply, size_t cap);
void publish_pending(struct server *srv);
void tell_layout(struct server *srv);
void stream_snapshots(struct server *srv);

/* server_batch.c */
void refill_reserve(struct server *srv);
void process_batch(struct server *srv);

#endif
