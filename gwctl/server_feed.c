/* The other gateways' changes in the loop: the feed's socket in epoll, its timeouts, its events. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "bucket.h"
#include "log.h"
#include "server_impl.h"

int server_feed_open(struct server *srv, char *msg, size_t msg_size)
{
	int rc = peers_feed_open(srv->svc, &srv->feed, msg, msg_size);

	srv->feed_fd = -1;
	srv->feed_due_ms = srv->feed ? 0 : -1; /* the first attempt at once */
	srv->svc->feed = srv->feed;
	return rc;
}

void server_feed_close(struct server *srv)
{
	srv->svc->feed = NULL;
	peers_feed_free(srv->feed);
	srv->feed = NULL;
}

/*
 * The feed's socket as epoll should have it. A socket the feed closed (a lost connection, or
 * libpq trying the next address) left epoll with its close, so a new one, even under the same
 * number, is added; the number cannot have gone to anything else meanwhile, as this runs right
 * after the feed's processing, which opens nothing else.
 */
static void arm(struct server *srv)
{
	const struct service_counters *c = &srv->svc->counters;
	uint64_t reconnects = c->peers_feed_connects + c->peers_feed_failures;
	bool want_write;
	int fd = peers_feed_fd(srv->feed, &want_write);
	uint32_t events = EPOLLIN | (want_write ? EPOLLOUT : 0);
	bool fresh = fd != srv->feed_fd || reconnects != srv->feed_reconnects;
	int rc = 0;

	srv->feed_reconnects = reconnects;
	if (fd >= 0 && (fresh || events != srv->feed_events)) {
		rc = server_arm(srv, fresh ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, events, TAG_FEED);
		if (rc == -EEXIST)
			rc = server_arm(srv, EPOLL_CTL_MOD, fd, events, TAG_FEED);
		else if (rc == -ENOENT)
			rc = server_arm(srv, EPOLL_CTL_ADD, fd, events, TAG_FEED);
	}
	if (rc < 0)
		log_warn("cannot wait on the peers feed's socket: %s", strerror(-rc));
	srv->feed_fd = rc < 0 ? -1 : fd;
	srv->feed_events = events;
}

void server_feed_poll(struct server *srv, bool ready)
{
	int64_t now = ipr_clock_ms(), wait;

	if (!srv->feed || (!ready && (srv->feed_due_ms < 0 || now < srv->feed_due_ms)))
		return;
	peers_feed_process(srv->feed, now);
	arm(srv);
	wait = peers_feed_timeout_ms(srv->feed, now);
	srv->feed_due_ms = wait < 0 ? -1 : now + wait;
}

int server_feed_wait_ms(const struct server *srv)
{
	int64_t now, wait;

	if (!srv->feed || srv->feed_due_ms < 0)
		return -1;
	now = ipr_clock_ms();
	wait = srv->feed_due_ms > now ? srv->feed_due_ms - now : 0;
	return wait > INT_MAX ? INT_MAX : (int)wait;
}

/* Only what server_feed_apply can do now: nothing to spin on while it cannot. */
bool server_feed_waiting(const struct server *srv)
{
	return peers_feed_waiting(srv->feed) && !store_in_transaction(srv->svc->store);
}

/* Between batches only: a batch's transaction must not see, nor hold up, the feed's reads. */
void server_feed_apply(struct server *srv)
{
	struct service *svc = srv->svc;

	if (!peers_feed_waiting(srv->feed) || store_in_transaction(svc->store) ||
	    svc->pending_count || svc->pending_overflow)
		return;
	peers_feed_apply(srv->feed);
	if (peers_feed_room_again(srv->feed))
		srv->feed_due_ms = 0; /* the feed asks for its next bite at the next turn */
	if (svc->pending_count || svc->pending_overflow)
		server_publish_pending(srv);
}
