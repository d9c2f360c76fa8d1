/* Worker threads: what each one opens and owns, its loop, starting and stopping them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "forward.h"
#include "log.h"
#include "pump.h"
#include "tun.h"
#include "udp.h"
#include "workers_internal.h"

#define TICK_MS		100
#define USE_EVERY_TICKS 10 /* use marks to the control each second (it reports every two) */

enum { TAG_TUN = 1, TAG_UDP4, TAG_UDP6, TAG_WAKE, TAG_TIMER };

static void on_tick(struct dp_worker *wk)
{
	struct dp *dp = &wk->dp;
	uint64_t ticks;
	int64_t now = ipr_clock_ms();

	(void)!read(wk->timer_fd, &ticks, sizeof(ticks));
	forward_tick(dp, now);
	pump_retry(dp, now);
	if (++wk->ticks % USE_EVERY_TICKS == 0)
		workers_send_use(wk);
	workers_publish(wk);
}

static void *worker_main(void *arg)
{
	struct dp_worker *wk = arg;
	struct dp *dp = &wk->dp;
	bool more = false;

	while (!__atomic_load_n(&wk->stop, __ATOMIC_ACQUIRE)) {
		struct epoll_event events[8];
		int n = epoll_wait(wk->ep, events, 8, more ? 0 : -1);

		if (n < 0 && errno != EINTR) {
			log_error("worker %u: epoll: %s", wk->id, strerror(errno));
			break;
		}
		/* the wake-up read before the ring: a record pushed after it wakes us again */
		for (int i = 0; i < n; i++) {
			uint64_t v;
			if (events[i].data.u64 == TAG_WAKE)
				(void)!read(wk->wake_fd, &v, sizeof(v));
		}
		more = workers_apply(wk);
		for (int i = 0; i < n; i++) {
			uint64_t tag = events[i].data.u64;
			int fd = tag == TAG_UDP4 ? dp->io.udp4_fd : dp->io.udp6_fd;

			if ((tag == TAG_UDP4 || tag == TAG_UDP6) && (events[i].events & EPOLLERR))
				pump_udp_errors(dp, fd);
			if (tag == TAG_TUN)
				pump_tun(dp);
			else if (tag == TAG_UDP4 || tag == TAG_UDP6)
				pump_udp(dp, fd);
			else if (tag == TAG_TIMER)
				on_tick(wk);
		}
		if (wk->up_dirty) {
			wk->up_dirty = false;
			workers_wake(wk->all->wake_fd);
		}
	}
	workers_publish(wk);
	return NULL;
}

/* ---- setting up ---- */

static int add_fd(int ep, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	if (fd < 0)
		return 0;
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int open_socket(struct dp_worker *wk, int family, int *fd)
{
	*fd = udp_open_shared(family, wk->dp.cfg.port);
	if (*fd < 0) {
		log_error("worker %u: UDP port %u (%s): %s", wk->id, wk->dp.cfg.port,
			  family == AF_INET ? "IPv4" : "IPv6", strerror(-*fd));
		return *fd;
	}
	if (udp_want_errors(*fd, family) < 0)
		log_warn("worker %u: no error queue, so no path MTU from routers", wk->id);
	return 0;
}

/* Everything one worker owns, from the control's configuration. */
static int worker_open(struct dp *ctl, struct dp_worker *wk, unsigned *ifindex)
{
	struct itimerspec its = { .it_interval = { 0, TICK_MS * 1000000L },
				  .it_value = { 0, TICK_MS * 1000000L } };
	struct dp *dp = &wk->dp;
	unsigned n = wk->all->n;
	int rc;

	dp->cfg = ctl->cfg;
	/* the gateway's own ICMP errors: each worker a share of the rate, so that all keep it */
	dp->cfg.icmp_rate = (ctl->cfg.icmp_rate + n - 1) / n;
	dp->cfg.icmp_burst = (ctl->cfg.icmp_burst + n - 1) / n;
	dp->slot_size = ctl->slot_size;
	dp->worker = wk;
	dp->ipv4_id = (uint16_t)(wk->id * (65536u / n)); /* apart, for fewer equal IDs to a peer */
	rc = maptab_new(dp->cfg.capacity, &dp->tab);
	if (rc < 0)
		return rc;
	dp->io.tun_fd = offload_tun_open(&dp->io, dp->cfg.tun, dp->cfg.tun_offload, ifindex);
	if (dp->io.tun_fd < 0) {
		log_error("worker %u: TUN queue of %s: %s", wk->id, dp->cfg.tun,
			  strerror(-dp->io.tun_fd));
		return dp->io.tun_fd;
	}
	if ((dp->cfg.ipv4 && (rc = open_socket(wk, AF_INET, &dp->io.udp4_fd)) < 0) ||
	    (dp->cfg.ipv6 && (rc = open_socket(wk, AF_INET6, &dp->io.udp6_fd)) < 0))
		return rc;
	offload_udp_setup(&dp->io, dp->cfg.udp_gso, dp->cfg.udp_gro);
	rc = dpio_init(&dp->io, dp->slot_size, dp->counters, dp->drops);
	if (rc < 0)
		return rc;
	pump_attach(dp);
	rc = forward_init(dp);
	if (rc == 0)
		rc = dp_ring_init(&wk->down, DOWN_RECORDS, sizeof(struct down_rec));
	if (rc == 0)
		rc = dp_ring_init(&wk->up, UP_RECORDS, sizeof(struct up_rec));
	if (rc < 0)
		return rc;
	wk->ep = epoll_create1(EPOLL_CLOEXEC);
	wk->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	wk->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (wk->ep < 0 || wk->wake_fd < 0 || wk->timer_fd < 0 ||
	    timerfd_settime(wk->timer_fd, 0, &its, NULL) < 0)
		return -errno;
	if ((rc = add_fd(wk->ep, dp->io.tun_fd, TAG_TUN)) < 0 ||
	    (rc = add_fd(wk->ep, dp->io.udp4_fd, TAG_UDP4)) < 0 ||
	    (rc = add_fd(wk->ep, dp->io.udp6_fd, TAG_UDP6)) < 0 ||
	    (rc = add_fd(wk->ep, wk->wake_fd, TAG_WAKE)) < 0 ||
	    (rc = add_fd(wk->ep, wk->timer_fd, TAG_TIMER)) < 0)
		return rc;
	return 0;
}

static void worker_close(struct dp_worker *wk)
{
	struct dp *dp = &wk->dp;
	int fds[] = { dp->io.tun_fd, dp->io.udp4_fd, dp->io.udp6_fd,
		      wk->ep,	     wk->wake_fd,    wk->timer_fd };

	forward_deinit(dp);
	dpio_deinit(&dp->io);
	maptab_free(dp->tab);
	dp_ring_deinit(&wk->down);
	dp_ring_deinit(&wk->up);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(wk);
}

int workers_new(struct dp *ctl, unsigned *ifindex, struct dp_workers **out)
{
	struct dp_workers *w = calloc(1, sizeof(*w));
	int rc = 0;

	if (!w)
		return -ENOMEM;
	w->n = ctl->cfg.workers;
	w->ctl = ctl;
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wake_fd < 0) {
		rc = -errno;
		goto out;
	}
	tun_multi_queue(true);
	for (unsigned i = 0; i < w->n && rc == 0; i++) {
		struct dp_worker *wk = calloc(1, sizeof(*wk));
		if (!wk) {
			rc = -ENOMEM;
			break;
		}
		w->w[i] = wk;
		wk->all = w;
		wk->id = i;
		wk->ep = wk->wake_fd = wk->timer_fd = -1;
		wk->dp.io.tun_fd = wk->dp.io.udp4_fd = wk->dp.io.udp6_fd = -1;
		rc = worker_open(ctl, wk, ifindex);
	}
out:
	if (rc < 0) {
		if (rc == -ENOMEM)
			log_error("workers: out of memory");
		workers_free(w);
		return rc;
	}
	log_info("%u workers, each with a queue of %s and its own UDP sockets", w->n, ctl->cfg.tun);
	*out = w;
	return 0;
}

int workers_start(struct dp_workers *w)
{
	for (unsigned i = 0; i < w->n; i++) {
		int rc = pthread_create(&w->w[i]->thread, NULL, worker_main, w->w[i]);
		if (rc != 0) {
			log_error("worker %u: cannot start a thread: %s", i, strerror(rc));
			return -rc;
		}
		w->w[i]->started = true;
	}
	return 0;
}

void workers_free(struct dp_workers *w)
{
	if (!w)
		return;
	for (unsigned i = 0; i < w->n; i++) {
		struct dp_worker *wk = w->w[i];
		if (!wk)
			continue;
		if (wk->started) {
			__atomic_store_n(&wk->stop, 1, __ATOMIC_RELEASE);
			workers_wake(wk->wake_fd);
			pthread_join(wk->thread, NULL);
		}
		worker_close(wk);
	}
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	free(w);
}
