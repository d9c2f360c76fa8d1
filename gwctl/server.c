/* The control socket's event loop: what wakes it, and in which order the work is done. */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "server_impl.h"

int server_arm(struct server *srv, int op, int fd, uint32_t events, int64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)tag };

	return epoll_ctl(srv->epoll_fd, op, fd, &ev) < 0 ? -errno : 0;
}

/* The signals the loop reads, its timers and its epoll set; -errno when one cannot be had. */
static int open_descriptors(struct server *srv)
{
	sigset_t signals;

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
	    srv->epoll_fd < 0)
		return -errno;
	return 0;
}

static void start_timers(struct server *srv, const struct gwctl_config *cfg)
{
	struct itimerspec every = {
		.it_interval = { .tv_sec = cfg->sweep_interval_secs },
		.it_value = { .tv_sec = 1 }, /* sweep once soon after start: leases ran out while
						down */
	};
	timerfd_settime(srv->timer_fd, 0, &every, NULL);
	struct itimerspec idle_every = {
		.it_interval = { .tv_sec = clients_idle_check_secs(cfg) },
		.it_value = { .tv_sec = clients_idle_check_secs(cfg) },
	};
	timerfd_settime(srv->idle_fd, 0, &idle_every, NULL);
	long flush_ns = (long)(cfg->flush_interval_ms % 1000) * 1000000L;
	struct itimerspec flush_every = {
		.it_interval = { .tv_sec = cfg->flush_interval_ms / 1000, .tv_nsec = flush_ns },
		.it_value = { .tv_sec = cfg->flush_interval_ms / 1000, .tv_nsec = flush_ns },
	};
	timerfd_settime(srv->flush_fd, 0, &flush_every, NULL);
}

/* Every descriptor the loop waits on, under its tag. */
static int arm_all(struct server *srv)
{
	const struct {
		int fd;
		int64_t tag;
	} fds[] = {
		{ srv->watch.inotify_fd, TAG_WATCH },
		{ srv->watch.timer_fd, TAG_QUIET },
		{ srv->svc->names ? names_fd(srv->svc->names) : -1, TAG_NAMES },
		{ reloader_fd(srv->reloader), TAG_RELOAD },
		{ srv->listen_fd, TAG_LISTEN },
		{ srv->signal_fd, TAG_SIGNAL },
		{ srv->timer_fd, TAG_TIMER },
		{ srv->idle_fd, TAG_IDLE },
		{ srv->flush_fd, TAG_FLUSH },
		{ store_tend_fd(srv->svc->store), TAG_STORE },
	};
	int rc = 0;

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]) && rc == 0; i++) {
		/* no resolver: no names; a store with nothing to wake the loop for: none */
		bool absent = (fds[i].tag == TAG_NAMES || fds[i].tag == TAG_STORE) && fds[i].fd < 0;
		if (!absent)
			rc = server_arm(srv, EPOLL_CTL_ADD, fds[i].fd, EPOLLIN, fds[i].tag);
	}
	return rc;
}

int server_open(struct server **out, struct service *svc, int listen_fd, char *msg, size_t msg_size)
{
	struct server *srv = calloc(1, sizeof(*srv));
	int rc;

	msg[0] = '\0';
	if (!srv)
		return -ENOMEM;
	srv->svc = svc;
	srv->listen_fd = srv->epoll_fd = srv->signal_fd = srv->timer_fd = srv->idle_fd =
		srv->flush_fd = -1;
	srv->watch.inotify_fd = srv->watch.timer_fd = srv->feed_fd = -1;
	srv->client_cap = svc->cfg.max_clients;
	srv->clients = calloc(srv->client_cap, sizeof(*srv->clients));
	srv->batch = calloc(svc->cfg.commit_batch, sizeof(*srv->batch));
	srv->ahead = calloc(svc->cfg.commit_batch, sizeof(*srv->ahead));
	if (!srv->clients || !srv->batch || !srv->ahead) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < srv->client_cap; i++)
		srv->clients[i].fd = -1;

	rc = server_listen(srv, listen_fd, msg, msg_size);
	if (rc == 0)
		rc = open_descriptors(srv);
	if (rc < 0)
		goto out;
	start_timers(srv, &svc->cfg);
	srv->refill_due = true; /* the reserve as the ranges now are, before it is needed */
	rc = watch_open(&srv->watch);
	if (rc == 0)
		rc = reloader_open(&srv->reloader);
	if (rc < 0)
		goto out;
	/* watched before the first read, so nothing in between is missed: no second read */
	(void)watch_set(&srv->watch, &svc->cfg, NULL, 0);
	/* the sources as they are now, before the first request */
	reloader_ask(srv->reloader, false);
	rc = arm_all(srv);
	if (rc == 0)
		rc = server_feed_open(srv, msg, msg_size);
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

void server_free(struct server *srv)
{
	if (!srv)
		return;
	for (size_t i = 0; srv->clients && i < srv->client_cap; i++)
		server_close_client(srv, &srv->clients[i]);
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
	server_feed_close(srv);
	watch_close(&srv->watch);
	reloader_free(srv->reloader);
	free(srv->clients);
	free(srv->batch);
	free(srv->ahead);
	free(srv);
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
	return server_clients_waiting(srv) || srv->sweep_due || srv->refill_due ||
	       reloader_busy(srv->reloader) || server_feed_waiting(srv);
}

static void read_tick(int fd)
{
	uint64_t ticks;

	(void)!read(fd, &ticks, sizeof(ticks));
}

/* One event: a descriptor of the loop's own, or a client's socket (its tag is its slot). */
static void dispatch(struct server *srv, const struct epoll_event *ev)
{
	int64_t tag = (int64_t)ev->data.u64;
	struct client *c;

	switch (tag) {
	case TAG_LISTEN:
		server_accept(srv);
		return;
	case TAG_SIGNAL:
		handle_signals(srv);
		return;
	case TAG_RELOAD:
		reloader_collect(srv->reloader);
		return;
	case TAG_NAMES:
		if (names_process(srv->svc->names))
			reloader_ask(srv->reloader, false); /* an answer changed what applies */
		return;
	case TAG_WATCH:
		watch_read(&srv->watch);
		return;
	case TAG_QUIET:
		if (watch_due(&srv->watch))
			reloader_ask(srv->reloader, false);
		return;
	case TAG_IDLE:
		server_close_idle(srv);
		return;
	case TAG_FEED:
		srv->feed_ready = true;
		return;
	case TAG_FLUSH:
		read_tick(srv->flush_fd);
		store_flush(srv->svc->store);
		return;
	case TAG_STORE:
		/* between batches, before this round's: its commit would leave the WAL frames */
		read_tick(store_tend_fd(srv->svc->store));
		store_tend(srv->svc->store);
		return;
	case TAG_TIMER:
		read_tick(srv->timer_fd);
		srv->sweep_due = true;
		reloader_tick(srv->reloader);
		return;
	}
	c = &srv->clients[tag];
	if (c->fd >= 0 && (ev->events & EPOLLOUT))
		server_flush(srv, c);
	if (c->fd >= 0 && (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		c->readable = true;
}

/*
 * The configuration or an $INCLUDE may name other files as sources now: watch those. The load
 * that named a file read it before its watch began (and commits come before this, a refill
 * even between them), so a file new to the watch is read once more after the quiet period.
 */
static void follow_sources(struct server *srv)
{
	const struct publish_state *p = &srv->svc->publish;

	if (srv->svc->config_loads == srv->config_loads_seen &&
	    p->files_changes == srv->files_changes_seen)
		return;
	srv->config_loads_seen = srv->svc->config_loads;
	srv->files_changes_seen = p->files_changes;
	if (watch_set(&srv->watch, &srv->svc->cfg, p->files, p->file_count) > 0)
		watch_recheck(&srv->watch);
}

/* After the events: a batch (or a refill alone), then what subscribers and queues wait for. */
static void do_work(struct server *srv)
{
	server_read_batch(srv);
	if (srv->batch_len || srv->sweep_due || reloader_busy(srv->reloader))
		server_process_batch(srv);
	else if (srv->refill_due)
		server_refill_reserve(srv);
	store_tend(srv->svc->store); /* after the replies went out: the WAL's upkeep */
	server_feed_apply(srv);	     /* between batches: never inside one's transaction */
	follow_sources(srv);
	server_stream_snapshots(srv);
	for (size_t i = 0; i < srv->client_cap; i++) {
		if (srv->clients[i].fd >= 0 && server_queued(&srv->clients[i]))
			server_flush(srv, &srv->clients[i]);
	}
}

int server_run(struct server *srv)
{
	struct epoll_event events[64];

	log_info("serving on %s", srv->svc->cfg.socket);
	while (!srv->stop) {
		/* the feed's timeouts (its next attempt, its resync) bound the sleep */
		int n = epoll_wait(srv->epoll_fd, events, 64,
				   work_left(srv) ? 0 : server_feed_wait_ms(srv));
		if (n < 0 && errno != EINTR)
			return -errno;
		srv->feed_ready = false;
		for (int i = 0; i < n; i++)
			dispatch(srv, &events[i]);
		server_feed_poll(srv, srv->feed_ready);
		do_work(srv);
	}
	return 0;
}
