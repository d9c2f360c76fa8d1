/* Connections: admitted, requests read into batches, replies queued and sent, idle closed. */
#include "server_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "peers.h"

void server_close_client(struct server *srv, struct client *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->queue);
	if (c->subscribed)
		srv->svc->subscribers--;
	uint32_t serial = c->serial + 1;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->serial = serial;
}

size_t server_queued(const struct client *c)
{
	return c->tail - c->head;
}

/* Queues a message for a client; a client whose queue overflows is disconnected. */
void server_send(struct server *srv, struct client *c, const uint8_t *msg, size_t len)
{
	if (c->fd < 0)
		return;
	if (!c->queue) {
		c->queue = malloc(QUEUE_CAP);
		if (!c->queue) {
			server_close_client(srv, c);
			return;
		}
	}
	if (c->tail + 2 + len > QUEUE_CAP && c->head > 0) {
		memmove(c->queue, c->queue + c->head, server_queued(c));
		c->tail -= c->head;
		c->head = 0;
	}
	if (c->tail + 2 + len > QUEUE_CAP) {
		if (c->subscribed)
			srv->svc->counters.subscribers_dropped++;
		log_warn("client pid %d is not reading its replies; disconnecting it", (int)c->pid);
		server_close_client(srv, c);
		return;
	}
	c->queue[c->tail] = (uint8_t)(len >> 8);
	c->queue[c->tail + 1] = (uint8_t)len;
	memcpy(c->queue + c->tail + 2, msg, len);
	c->tail += 2 + len;
}

int server_flush(struct server *srv, struct client *c)
{
	while (c->fd >= 0 && server_queued(c) > 0) {
		size_t len = ((size_t)c->queue[c->head] << 8) | c->queue[c->head + 1];
		ssize_t n = send(c->fd, c->queue + c->head + 2, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			server_close_client(srv, c);
			return -1;
		}
		c->head += 2 + len;
	}
	if (c->fd < 0)
		return -1;
	if (server_queued(c) == 0) {
		c->head = c->tail = 0;
		if (c->closing) {
			server_close_client(srv, c);
			return -1;
		}
	}
	bool want = server_queued(c) > 0;
	if (want != c->want_out) {
		server_arm(srv, EPOLL_CTL_MOD, c->fd, EPOLLIN | (want ? EPOLLOUT : 0),
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

void server_accept(struct server *srv)
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
		if (server_arm(srv, EPOLL_CTL_ADD, fd, EPOLLIN, (int64_t)slot) < 0)
			server_close_client(srv, c);
		else
			log_debug("client pid %d uid %d connected", (int)cred.pid, (int)cred.uid);
	}
}

/* Closes connections quiet for idle-timeout that wait for nothing (gwctl/clients.h). */
void server_close_idle(struct server *srv)
{
	int64_t now = ipr_clock_ms();
	uint64_t ticks;

	(void)!read(srv->idle_fd, &ticks, sizeof(ticks));
	for (size_t i = 0; i < srv->client_cap; i++) {
		struct client *c = &srv->clients[i];

		if (c->fd < 0 || c->subscribed || server_queued(c) > 0 ||
		    !clients_idle(&srv->svc->cfg, c->heard_ms, now))
			continue;
		log_debug("closing the idle connection of pid %d uid %d", (int)c->pid, (int)c->uid);
		srv->svc->counters.closed_idle++;
		server_close_client(srv, c);
	}
}

/* Takes one request of a client into the batch; false when it has none waiting (or left). */
static bool read_one(struct server *srv, size_t slot)
{
	struct client *c = &srv->clients[slot];
	struct batch_entry *e = &srv->batch[srv->batch_len];
	ssize_t n = recv(c->fd, e->msg, sizeof(e->msg), MSG_DONTWAIT | MSG_TRUNC);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		server_close_client(srv, c);
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
	e->reply_len = 0; /* nothing answered yet (a batch that fails to begin answers none) */
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
void server_read_batch(struct server *srv)
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

bool server_clients_waiting(const struct server *srv)
{
	for (size_t i = 0; i < srv->client_cap; i++) {
		if (srv->clients[i].fd >= 0 && srv->clients[i].readable)
			return true;
	}
	return false;
}
