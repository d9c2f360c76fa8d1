/* The control socket's event loop: accept, read batches, commit once, reply, push events. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "bucket.h"
#include "clients.h"
#include "log.h"
#include "peers.h"
#include "reload.h"
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

static int arm(struct server *srv, int op, int fd, uint32_t events, int64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)tag };

	return epoll_ctl(srv->epoll_fd, op, fd, &ev) < 0 ? -errno : 0;
}

/* A socket file nobody answers on is left over from a crash; a live one is another daemon. */
static int clear_stale_socket(const char *path, char *msg, size_t msg_size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(msg, msg_size, "%s exists and is not a socket; refusing to replace it",
			 path);
		return -EEXIST;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		snprintf(msg, msg_size, "%s: another gwctld is answering on this socket", path);
		return -EADDRINUSE;
	}
	return unlink(path) < 0 ? -errno : 0;
}

static int open_listener(struct server *srv, int inherited_fd, char *msg, size_t msg_size)
{
	const struct gwctl_config *cfg = &srv->svc->cfg;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int rc;

	srv->group = (gid_t)-1;
	if (cfg->socket_group[0]) {
		struct group *gr = getgrnam(cfg->socket_group);
		if (!gr) {
			snprintf(msg, msg_size, "socket-group %s: no such group",
				 cfg->socket_group);
			return -ENOENT;
		}
		srv->group = gr->gr_gid;
	}
	if (inherited_fd >= 0) {
		/* socket activation: the unit's SocketGroup= and SocketMode= set the file's access
		 */
		srv->listen_fd = inherited_fd;
		srv->listen_inherited = true;
		rc = fcntl(inherited_fd, F_GETFL);
		if (rc < 0 || fcntl(inherited_fd, F_SETFL, rc | O_NONBLOCK) < 0 ||
		    fcntl(inherited_fd, F_SETFD, FD_CLOEXEC) < 0)
			return -errno;
		return 0;
	}
	rc = clear_stale_socket(cfg->socket, msg, msg_size);
	if (rc < 0) {
		if (!msg[0])
			snprintf(msg, msg_size, "%s: %s", cfg->socket, strerror(-rc));
		return rc;
	}
	srv->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->listen_fd < 0)
		return -errno;
	strcpy(sun.sun_path, cfg->socket);
	/* Created with no access for others from the start: no window where anyone may connect. */
	old_mask = umask(0177);
	rc = bind(srv->listen_fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (rc < 0 || listen(srv->listen_fd, 64) < 0) {
		rc = -errno;
		snprintf(msg, msg_size, "%s: %s", cfg->socket, strerror(-rc));
		return rc;
	}
	if (srv->group != (gid_t)-1 &&
	    (chown(cfg->socket, (uid_t)-1, srv->group) < 0 || chmod(cfg->socket, 0660) < 0)) {
		rc = -errno;
		snprintf(msg, msg_size, "%s: cannot give the socket to group %s: %s", cfg->socket,
			 cfg->socket_group, strerror(-rc));
		return rc;
	}
	return 0;
}

int server_open(struct server **out, struct service *svc, int listen_fd, char *msg, size_t msg_size)
{
	struct server *srv = calloc(1, sizeof(*srv));
	sigset_t signals;
	int rc;

	msg[0] = '\0';
	if (!srv)
		return -ENOMEM;
	srv->svc = svc;
	srv->listen_fd = srv->epoll_fd = srv->signal_fd = srv->timer_fd = srv->idle_fd =
		srv->flush_fd = -1;
	srv->watch.inotify_fd = srv->watch.timer_fd = -1;
	srv->client_cap = svc->cfg.max_clients;
	srv->clients = calloc(srv->client_cap, sizeof(*srv->clients));
	srv->batch = calloc(svc->cfg.commit_batch, sizeof(*srv->batch));
	if (!srv->clients || !srv->batch) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < srv->client_cap; i++)
		srv->clients[i].fd = -1;

	rc = open_listener(srv, listen_fd, msg, msg_size);
	if (rc < 0)
		goto out;

	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGHUP);
	sigprocmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	srv->signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
	srv->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	srv->idle_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	srv->flush_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->signal_fd < 0 || srv->timer_fd < 0 || srv->idle_fd < 0 || srv->flush_fd < 0 ||
	    srv->epoll_fd < 0) {
		rc = -errno;
		goto out;
	}
	struct itimerspec every = {
		.it_interval = { .tv_sec = svc->cfg.sweep_interval_secs },
		.it_value = { .tv_sec = 1 }, /* sweep once soon after start: leases ran out while
						down */
	};
	timerfd_settime(srv->timer_fd, 0, &every, NULL);
	struct itimerspec idle_every = {
		.it_interval = { .tv_sec = clients_idle_check_secs(&svc->cfg) },
		.it_value = { .tv_sec = clients_idle_check_secs(&svc->cfg) },
	};
	timerfd_settime(srv->idle_fd, 0, &idle_every, NULL);
	long flush_ns = (long)(svc->cfg.flush_interval_ms % 1000) * 1000000L;
	struct itimerspec flush_every = {
		.it_interval = { .tv_sec = svc->cfg.flush_interval_ms / 1000, .tv_nsec = flush_ns },
		.it_value = { .tv_sec = svc->cfg.flush_interval_ms / 1000, .tv_nsec = flush_ns },
	};
	timerfd_settime(srv->flush_fd, 0, &flush_every, NULL);
	srv->refill_due = true; /* the reserve as the ranges now are, before it is needed */
	rc = watch_open(&srv->watch);
	if (rc == 0)
		rc = reloader_open(&srv->reloader);
	if (rc < 0)
		goto out;
	watch_set(&srv->watch, &svc->cfg, NULL, 0);
	reloader_ask(srv->reloader,
		     false); /* the sources as they are now, before the first request */
	rc = arm(srv, EPOLL_CTL_ADD, srv->watch.inotify_fd, EPOLLIN, TAG_WATCH);
	if (rc == 0)
		rc = arm(srv, EPOLL_CTL_ADD, srv->watch.timer_fd, EPOLLIN, TAG_QUIET);
	if (rc == 0 && svc->names)
		rc = arm(srv, EPOLL_CTL_ADD, names_fd(svc->names), EPOLLIN, TAG_NAMES);
	if (rc == 0)
		rc = arm(srv, EPOLL_CTL_ADD, reloader_fd(srv->reloader), EPOLLIN, TAG_RELOAD);
	if (rc == 0)
		rc = arm(srv, EPOLL_CTL_ADD, srv->listen_fd, EPOLLIN, TAG_LISTEN);
	if (rc == 0)
		rc = arm(srv, EPOLL_CTL_ADD, srv->signal_fd, EPOLLIN, TAG_SIGNAL);
	if (rc == 0)
		rc = arm(srv, EPOLL_CTL_ADD, srv->timer_fd, EPOLLIN, TAG_TIMER);
	if (rc == 0)
		rc = arm(srv, EPOLL_CTL_ADD, srv->idle_fd, EPOLLIN, TAG_IDLE);
	if (rc == 0)
		rc = arm(srv, EPOLL_CTL_ADD, srv->flush_fd, EPOLLIN, TAG_FLUSH);
	if (rc < 0)
		goto out;
	*out = srv;
	return 0;
out:
	if (!msg[0])
		snprintf(msg, msg_size, "cannot set up the control socket: %s", strerror(-rc));
	server_free(srv);
	return rc;
}

static void close_client(struct server *srv, struct client *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->queue);
	uint32_t serial = c->serial + 1;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->serial = serial;
}

void server_free(struct server *srv)
{
	if (!srv)
		return;
	for (size_t i = 0; srv->clients && i < srv->client_cap; i++)
		close_client(srv, &srv->clients[i]);
	if (srv->listen_fd >= 0) {
		close(srv->listen_fd);
		if (!srv->listen_inherited)
			unlink(srv->svc->cfg.socket);
	}
	if (srv->epoll_fd >= 0)
		close(srv->epoll_fd);
	if (srv->signal_fd >= 0)
		close(srv->signal_fd);
	if (srv->timer_fd >= 0)
		close(srv->timer_fd);
	if (srv->idle_fd >= 0)
		close(srv->idle_fd);
	if (srv->flush_fd >= 0)
		close(srv->flush_fd);
	watch_close(&srv->watch);
	reloader_free(srv->reloader);
	free(srv->clients);
	free(srv->batch);
	free(srv);
}

static size_t queued(const struct client *c)
{
	return c->tail - c->head;
}

static int flush_client(struct server *srv, struct client *c);

/* Queues a message for a client; a client whose queue overflows is disconnected. */
static void send_to(struct server *srv, struct client *c, const uint8_t *msg, size_t len)
{
	if (c->fd < 0)
		return;
	if (!c->queue) {
		c->queue = malloc(QUEUE_CAP);
		if (!c->queue) {
			close_client(srv, c);
			return;
		}
	}
	if (c->tail + 2 + len > QUEUE_CAP && c->head > 0) {
		memmove(c->queue, c->queue + c->head, queued(c));
		c->tail -= c->head;
		c->head = 0;
	}
	if (c->tail + 2 + len > QUEUE_CAP) {
		if (c->subscribed)
			srv->svc->counters.subscribers_dropped++;
		log_warn("client pid %d is not reading its replies; disconnecting it", (int)c->pid);
		close_client(srv, c);
		return;
	}
	c->queue[c->tail] = (uint8_t)(len >> 8);
	c->queue[c->tail + 1] = (uint8_t)len;
	memcpy(c->queue + c->tail + 2, msg, len);
	c->tail += 2 + len;
}

static int flush_client(struct server *srv, struct client *c)
{
	while (c->fd >= 0 && queued(c) > 0) {
		size_t len = ((size_t)c->queue[c->head] << 8) | c->queue[c->head + 1];
		ssize_t n = send(c->fd, c->queue + c->head + 2, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			close_client(srv, c);
			return -1;
		}
		c->head += 2 + len;
	}
	if (c->fd < 0)
		return -1;
	if (queued(c) == 0) {
		c->head = c->tail = 0;
		if (c->closing) {
			close_client(srv, c);
			return -1;
		}
	}
	bool want = queued(c) > 0;
	if (want != c->want_out) {
		arm(srv, EPOLL_CTL_MOD, c->fd, EPOLLIN | (want ? EPOLLOUT : 0),
		    (int64_t)(c - srv->clients));
		c->want_out = want;
	}
	return 0;
}

/* Refuses a connection with E_BUSY and a reason the client can show. */
static void refuse_busy(int fd, const char *why)
{
	uint8_t reply[128];
	size_t n = service_error_reply(reply, sizeof(reply), 0, 0, IPR_CTL_E_BUSY, why);

	(void)!send(fd, reply, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

/* A free slot for a client of uid, or -1 when the table is full or uid holds its share. */
static ssize_t admit(struct server *srv, int fd, const struct ucred *cred, int64_t now)
{
	struct service *svc = srv->svc;
	size_t slot = srv->client_cap, same_user = 0, share = clients_user_share(&svc->cfg);

	for (size_t i = 0; i < srv->client_cap; i++) {
		if (srv->clients[i].fd < 0)
			slot = slot < srv->client_cap ? slot : i;
		else if (srv->clients[i].uid == cred->uid)
			same_user++;
	}
	if (slot == srv->client_cap) {
		svc->counters.refused_full++;
		refuse_busy(fd, "too many clients");
		clients_log_refusal(&srv->refusals, now,
				    "refused a control connection from pid %d uid %d: "
				    "max-clients (%u) reached",
				    (int)cred->pid, (int)cred->uid, svc->cfg.max_clients);
		return -1;
	}
	if (same_user >= share) {
		svc->counters.refused_share++;
		refuse_busy(fd, "too many connections of this user (max-clients-per-user)");
		clients_log_refusal(&srv->refusals, now,
				    "refused a control connection from pid %d uid %d: it holds "
				    "its share of %zu (max-clients-per-user)",
				    (int)cred->pid, (int)cred->uid, share);
		return -1;
	}
	return (ssize_t)slot;
}

static void accept_clients(struct server *srv)
{
	for (;;) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		int64_t now = ipr_clock_ms();
		struct ucred cred;
		ssize_t slot;

		if (fd < 0)
			return;
		if (!peers_allowed(fd, srv->group, &cred)) {
			srv->svc->counters.denied_peers++;
			clients_log_refusal(&srv->refusals, now,
					    "refused a control connection from uid %d: not root, "
					    "the daemon's user or in the socket group",
					    (int)cred.uid);
			close(fd);
			continue;
		}
		slot = admit(srv, fd, &cred, now);
		if (slot < 0)
			continue;
		struct client *c = &srv->clients[slot];
		c->fd = fd;
		c->uid = cred.uid;
		c->pid = cred.pid;
		c->heard_ms = now;
		if (arm(srv, EPOLL_CTL_ADD, fd, EPOLLIN, (int64_t)slot) < 0)
			close_client(srv, c);
		else
			log_debug("client pid %d uid %d connected", (int)cred.pid, (int)cred.uid);
	}
}

/* Closes connections quiet for idle-timeout that wait for nothing (gwctl/clients.h). */
static void close_idle_clients(struct server *srv)
{
	int64_t now = ipr_clock_ms();
	uint64_t ticks;

	(void)!read(srv->idle_fd, &ticks, sizeof(ticks));
	for (size_t i = 0; i < srv->client_cap; i++) {
		struct client *c = &srv->clients[i];

		if (c->fd < 0 || c->subscribed || queued(c) > 0 ||
		    !clients_idle(&srv->svc->cfg, c->heard_ms, now))
			continue;
		log_debug("closing the idle connection of pid %d uid %d", (int)c->pid, (int)c->uid);
		srv->svc->counters.closed_idle++;
		close_client(srv, c);
	}
}

/* Takes one request of a client into the batch; false when it has none waiting (or left). */
static bool read_one(struct server *srv, size_t slot)
{
	struct client *c = &srv->clients[slot];
	struct batch_entry *e = &srv->batch[srv->batch_len];
	ssize_t n = recv(c->fd, e->msg, sizeof(e->msg), MSG_DONTWAIT | MSG_TRUNC);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		close_client(srv, c);
		return false;
	}
	if (n < 0) {
		c->readable = false;
		return false;
	}
	c->heard_ms = ipr_clock_ms();
	e->client = slot;
	e->serial = c->serial;
	e->oversized = (size_t)n > sizeof(e->msg);
	e->deferred = false;
	e->len = e->oversized ? sizeof(e->msg) : (size_t)n;
	srv->batch_len++;
	return true;
}

/*
 * Fills the batch in rounds of one request per waiting client, so that a client with many
 * requests pipelined gets one turn per round like everyone else: a request waits for at most
 * one request of each other client before it, not for all of theirs. Clients still holding
 * requests when the batch is full are read first in the next one.
 */
static void read_clients(struct server *srv)
{
	size_t cap = srv->svc->cfg.commit_batch, start = srv->next_slot;
	bool any = true;

	while (any && srv->batch_len < cap) {
		any = false;
		for (size_t k = 0; k < srv->client_cap && srv->batch_len < cap; k++) {
			size_t slot = (start + k) % srv->client_cap;
			struct client *c = &srv->clients[slot];

			if (c->fd >= 0 && c->readable && read_one(srv, slot)) {
				any = true;
				srv->next_slot = (slot + 1) % srv->client_cap;
			}
		}
	}
}

static bool clients_waiting(const struct server *srv)
{
	for (size_t i = 0; i < srv->client_cap; i++) {
		if (srv->clients[i].fd >= 0 && srv->clients[i].readable)
			return true;
	}
	return false;
}

/* SUBSCRIBE is answered here: the snapshot is streamed as the subscriber reads. */
static size_t subscribe(struct server *srv, struct client *c, const struct ipr_ctl_header *hdr,
			uint8_t *reply, size_t cap)
{
	struct ipr_ctl_builder b;
	size_t len = 0;

	if (c->subscribed)
		return service_error_reply(reply, cap, hdr->kind, hdr->id, IPR_CTL_E_BUSY,
					   "already subscribed on this connection");
	c->subscribed = true;
	c->snapshot_done = false;
	c->snapshot_cursor = 0;
	c->sub_id = hdr->id;
	srv->svc->counters.requests[IPR_CTL_SUBSCRIBE]++;
	ipr_ctl_build(&b, reply, cap, IPR_CTL_SUBSCRIBE | IPR_CTL_REPLY, IPR_CTL_OK, hdr->id);
	ipr_ctl_put_u64(&b, IPR_CTL_A_GENERATION, srv->svc->generation);
	if (ipr_ctl_finish(&b, &len) < 0)
		len = 0;
	return len;
}

/* Sends a reload's answer to the client that asked, if it is still there. */
static void reload_reply(void *ctx, const struct reload_waiter *w, const uint8_t *msg, size_t len)
{
	struct server *srv = ctx;
	struct client *c = &srv->clients[w->client];

	if (c->fd >= 0 && c->serial == w->serial)
		send_to(srv, c, msg, len);
}

/* Decodes and answers one request of the batch; returns -EIO when the batch is doomed. */
static int process_entry(struct server *srv, struct batch_entry *e)
{
	struct client *c = &srv->clients[e->client];
	struct ipr_ctl_header hdr = { 0 };
	const uint8_t *attrs;
	size_t attrs_len;
	int rc = ipr_ctl_decode(e->msg, e->len, &hdr, &attrs, &attrs_len);

	e->reply_len = 0;
	if (c->serial != e->serial || c->fd < 0)
		return 0; /* the client left */
	if (rc == -EPROTONOSUPPORT) {
		e->reply_len =
			service_error_reply(e->reply, sizeof(e->reply), hdr.kind, hdr.id,
					    IPR_CTL_E_VERSION, "this daemon speaks version 1");
		c->closing = true;
		return 0;
	}
	if (rc < 0 || e->oversized) {
		srv->svc->counters.malformed++;
		srv->svc->counters.errors[IPR_CTL_E_MALFORMED]++;
		e->reply_len = service_error_reply(e->reply, sizeof(e->reply), hdr.kind, hdr.id,
						   IPR_CTL_E_MALFORMED, "malformed message");
		return 0;
	}
	if (hdr.kind == IPR_CTL_RANGES)
		c->asked_ranges = true;
	if (hdr.kind == IPR_CTL_SUBSCRIBE) {
		e->reply_len = subscribe(srv, c, &hdr, e->reply, sizeof(e->reply));
		return 0;
	}
	if (hdr.kind == IPR_CTL_RELOAD) {
		const struct reload_waiter waiter = { .client = e->client,
						      .serial = e->serial,
						      .id = hdr.id };

		/* answered after the commit that applies it (reload.h), or now when refused */
		e->reply_len = reloader_request(srv->reloader, srv->svc, &waiter, e->reply,
						sizeof(e->reply));
		e->deferred = e->reply_len == 0;
		return 0;
	}
	rc = service_handle(srv->svc, &hdr, attrs, attrs_len, e->reply, sizeof(e->reply));
	if (rc < 0)
		return rc;
	e->reply_len = (size_t)rc;
	return 0;
}

static void put_event(struct ipr_ctl_builder *b, uint8_t kind, uint32_t id, uint64_t generation,
		      const struct ipr_mapping *m)
{
	ipr_ctl_build(b, b->buf, IPR_CTL_MSG_MAX, kind, IPR_CTL_OK, id);
	ipr_ctl_put_u64(b, IPR_CTL_A_GENERATION, generation);
	if (m)
		ipr_mapping_put(b, m);
}

/*
 * Tells every subscriber about the changes the last commit made durable. GENERATION grows by
 * one per change, also for changes beyond what was kept to be told one by one.
 */
static void publish_pending(struct server *srv)
{
	struct service *svc = srv->svc;
	struct ipr_ctl_builder b = { .buf = srv->scratch };

	if (svc->pending_overflow) {
		/* more changes than we kept track of: subscribers must start over from a snapshot
		 */
		for (size_t i = 0; i < srv->client_cap; i++) {
			if (srv->clients[i].fd >= 0 && srv->clients[i].subscribed) {
				svc->counters.subscribers_dropped++;
				close_client(srv, &srv->clients[i]);
			}
		}
		svc->generation += svc->pending_changes;
		service_drop_pending(svc);
		return;
	}
	for (size_t p = 0; p < svc->pending_count; p++) {
		svc->generation++;
		for (size_t i = 0; i < srv->client_cap; i++) {
			struct client *c = &srv->clients[i];
			size_t len;
			if (c->fd < 0 || !c->subscribed)
				continue;
			put_event(&b, svc->pending[p].kind, c->sub_id, svc->generation,
				  &svc->pending[p].mapping);
			if (ipr_ctl_finish(&b, &len) == 0) {
				send_to(srv, c, srv->scratch, len);
				svc->counters.events_sent++;
			}
		}
	}
	service_drop_pending(svc);
}

/*
 * A reload changed the layout (RANGES' answer): subscribers (the dataplane) get EV_LAYOUT and
 * ask RANGES again; other connections that asked RANGES (resolver workers) are closed, so that
 * they ask it again on reconnecting. Either way nobody keeps the old layout.
 */
static void tell_layout(struct server *srv)
{
	struct service *svc = srv->svc;
	struct ipr_ctl_builder b;

	svc->layout_changed = false;
	for (size_t i = 0; i < srv->client_cap; i++) {
		struct client *c = &srv->clients[i];
		size_t len;
		if (c->fd < 0)
			continue;
		if (c->subscribed) {
			ipr_ctl_build(&b, srv->scratch, IPR_CTL_MSG_MAX, IPR_CTL_EV_LAYOUT,
				      IPR_CTL_OK, c->sub_id);
			if (ipr_ctl_finish(&b, &len) == 0) {
				send_to(srv, c, srv->scratch, len);
				svc->counters.events_sent++;
			}
		} else if (c->asked_ranges) {
			svc->counters.layout_closed++;
			close_client(srv, c);
		}
	}
}

/*
 * After a batch's replies went out: the reserve topped up when allocations took from it, in a
 * commit of its own that does not wait for the disk either (the flusher makes it usable).
 */
static void refill_reserve(struct server *srv)
{
	struct service *svc = srv->svc;
	uint64_t allocated = svc->counters.allocated_encoded + svc->counters.allocated_refs;
	int rc;

	/* counting a pool costs a scan of its index: every REFILL_EVERY allocations is enough */
	if (!srv->refill_due && allocated - svc->allocated_seen < REFILL_EVERY)
		return;
	svc->allocated_seen = allocated;
	rc = service_refill(svc);
	srv->refill_due = rc >= REFILL_CHUNK;
	if (rc < 0)
		log_warn("store: the reserve of values could not be refilled (%s); allocations "
			 "sync on the spot until it is",
			 strerror(-rc));
}

static void process_batch(struct server *srv)
{
	struct service *svc = srv->svc;
	uint64_t changes_before = store_changes(svc->store);
	bool doomed = false;
	int rc;

	rc = store_begin(svc->store);
	if (rc < 0)
		doomed = true;
	for (size_t i = 0; i < srv->batch_len && !doomed; i++)
		doomed = process_entry(srv, &srv->batch[i]) < 0;
	reloader_start_asked(srv->reloader, svc);
	if (!doomed)
		doomed = reloader_step(srv->reloader, svc) < 0;
	if (!doomed && srv->sweep_due) {
		rc = service_sweep(svc, SWEEP_ROUND);
		if (rc < 0)
			doomed = true;
		else if (rc < SWEEP_ROUND)
			srv->sweep_due = false; /* a full round means more may be waiting */
	}
	if (!doomed && store_in_transaction(svc->store)) {
		rc = store_commit(svc->store);
		doomed = rc < 0;
	} else {
		doomed = true;
		store_rollback(svc->store);
	}

	if (doomed) {
		/* Nothing of this batch reached the disk: every answer becomes a store error. */
		const char *why = store_replaced(svc->store) ? STORE_REPLACED_REPLY
							     : "the store could not commit";
		svc->counters.store_failures++;
		if (store_replaced(svc->store))
			svc->counters.store_replaced++;
		service_drop_pending(svc);
		srv->sweep_due =
			false; /* not at once again: at the next tick, the disk may be full */
		for (size_t i = 0; i < srv->batch_len; i++) {
			struct batch_entry *e = &srv->batch[i];
			struct ipr_ctl_header hdr = { 0 };
			const uint8_t *attrs;
			size_t attrs_len;
			if (e->deferred)
				continue; /* the reloader answers it */
			/* hdr is filled whenever the header was complete, whatever else is wrong */
			if (ipr_ctl_decode(e->msg, e->len, &hdr, &attrs, &attrs_len) < 0)
				attrs_len = 0;
			svc->counters.errors[IPR_CTL_E_STORE]++;
			e->reply_len = service_error_reply(e->reply, sizeof(e->reply), hdr.kind,
							   hdr.id, IPR_CTL_E_STORE, why);
		}
		if (!store_replaced(svc->store))
			log_warn("store: a batch of %zu requests could not be committed",
				 srv->batch_len);
		else if (ipr_bucket_take(&srv->replaced_log, 1, 1, ipr_clock_ms()))
			log_error("store: %s was deleted or replaced while gwctld runs: a batch of "
				  "%zu requests is refused, as every write will be until a restart",
				  svc->cfg.database, srv->batch_len);
	}
	if (!doomed && store_changes(svc->store) != changes_before) {
		svc->counters.commits++;
		svc->counters.committed_requests += srv->batch_len;
	}
	reloader_after_batch(srv->reloader, svc, !doomed, reload_reply, srv);

	/* Replies go out only now, after the commit: an acknowledged allocation is durable. */
	for (size_t i = 0; i < srv->batch_len; i++) {
		struct batch_entry *e = &srv->batch[i];
		struct client *c = &srv->clients[e->client];
		if (e->reply_len && c->fd >= 0 && c->serial == e->serial)
			send_to(srv, c, e->reply, e->reply_len);
	}
	if (!doomed)
		publish_pending(srv);
	if (svc->layout_changed)
		tell_layout(srv);
	srv->batch_len = 0;
	refill_reserve(srv);
}

/* Feeds subscribers their snapshot a page at a time, as fast as they read it. */
static void stream_snapshots(struct server *srv)
{
	struct ipr_mapping page[SNAPSHOT_PAGE];
	struct ipr_ctl_builder b = { .buf = srv->scratch };

	for (size_t i = 0; i < srv->client_cap; i++) {
		struct client *c = &srv->clients[i];
		while (c->fd >= 0 && c->subscribed && !c->snapshot_done &&
		       queued(c) < SNAPSHOT_LOW_WATER) {
			int n = store_list(srv->svc->store, &c->snapshot_cursor, page,
					   SNAPSHOT_PAGE);
			size_t len;
			if (n < 0) {
				close_client(srv, c);
				break;
			}
			for (int k = 0; k < n; k++) {
				put_event(&b, IPR_CTL_EV_ADDED, c->sub_id, srv->svc->generation,
					  &page[k]);
				if (ipr_ctl_finish(&b, &len) == 0)
					send_to(srv, c, srv->scratch, len);
			}
			if (n == 0) {
				put_event(&b, IPR_CTL_EV_SNAPSHOT_DONE, c->sub_id,
					  srv->svc->generation, NULL);
				if (ipr_ctl_finish(&b, &len) == 0)
					send_to(srv, c, srv->scratch, len);
				c->snapshot_done = true;
			}
		}
	}
}

static void handle_signals(struct server *srv)
{
	struct signalfd_siginfo info;

	while (read(srv->signal_fd, &info, sizeof(info)) == sizeof(info)) {
		if (info.ssi_signo == SIGHUP) {
			reloader_ask(srv->reloader, true);
		} else {
			log_info("stopping on signal %u", info.ssi_signo);
			srv->stop = true;
		}
	}
}

/* Work left over does not wait: requests beyond a full batch, leases, a reload's slices. */
static bool work_left(const struct server *srv)
{
	return clients_waiting(srv) || srv->sweep_due || srv->refill_due ||
	       reloader_busy(srv->reloader);
}

int server_run(struct server *srv)
{
	struct epoll_event events[64];

	log_info("serving on %s", srv->svc->cfg.socket);
	while (!srv->stop) {
		int n = epoll_wait(srv->epoll_fd, events, 64, work_left(srv) ? 0 : -1);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			int64_t tag = (int64_t)events[i].data.u64;
			if (tag == TAG_LISTEN) {
				accept_clients(srv);
			} else if (tag == TAG_SIGNAL) {
				handle_signals(srv);
			} else if (tag == TAG_RELOAD) {
				reloader_collect(srv->reloader);
			} else if (tag == TAG_NAMES) {
				if (names_process(srv->svc->names))
					reloader_ask(srv->reloader,
						     false); /* an answer changed what applies */
			} else if (tag == TAG_WATCH) {
				watch_read(&srv->watch);
			} else if (tag == TAG_QUIET) {
				if (watch_due(&srv->watch))
					reloader_ask(srv->reloader, false);
			} else if (tag == TAG_IDLE) {
				close_idle_clients(srv);
			} else if (tag == TAG_FLUSH) {
				uint64_t ticks;
				(void)!read(srv->flush_fd, &ticks, sizeof(ticks));
				store_flush(srv->svc->store);
			} else if (tag == TAG_TIMER) {
				uint64_t ticks;
				(void)!read(srv->timer_fd, &ticks, sizeof(ticks));
				srv->sweep_due = true;
				reloader_tick(srv->reloader);
			} else {
				struct client *c = &srv->clients[tag];
				if (c->fd >= 0 && (events[i].events & EPOLLOUT))
					flush_client(srv, c);
				if (c->fd >= 0 &&
				    (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
					c->readable = true;
			}
		}
		read_clients(srv);
		if (srv->batch_len || srv->sweep_due || reloader_busy(srv->reloader))
			process_batch(srv);
		else if (srv->refill_due)
			refill_reserve(srv);
		if (srv->svc->config_loads != srv->config_loads_seen ||
		    srv->svc->publish.files_changes != srv->files_changes_seen) {
			/* the configuration or an $INCLUDE may name other files as sources now */
			const struct publish_state *p = &srv->svc->publish;

			srv->config_loads_seen = srv->svc->config_loads;
			srv->files_changes_seen = p->files_changes;
			watch_set(&srv->watch, &srv->svc->cfg, p->files, p->file_count);
		}
		stream_snapshots(srv);
		for (size_t i = 0; i < srv->client_cap; i++) {
			if (srv->clients[i].fd >= 0 && queued(&srv->clients[i]))
				flush_client(srv, &srv->clients[i]);
		}
	}
	return 0;
}
