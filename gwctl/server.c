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

#include "server_impl.h"

int arm(struct server *srv, int op, int fd, uint32_t events, int64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)tag };

	return epoll_ctl(srv->epoll_fd, op, fd, &ev) < 0 ? -errno : 0;
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
