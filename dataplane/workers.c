/* Worker threads: their setup, their loop, and the rings between them and the control thread. */
#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "dpctl.h"
#include "forward.h"
#include "layout.h"
#include "log.h"
#include "pmtu.h"
#include "pump.h"
#include "ring.h"
#include "tun.h"
#include "udp.h"

#define DOWN_RECORDS	1024 /* control to worker: table changes, layouts, peers */
#define UP_RECORDS	4096 /* worker to control: questions, use marks, peers */
#define DOWN_PER_WAKE	512  /* applied between two batches; the rest after the next */
#define TICK_MS		100
#define USE_EVERY_TICKS 10 /* use marks to the control each second (it reports every two) */
#define FULL_WAIT_NS	100000

enum { TAG_TUN = 1, TAG_UDP4, TAG_UDP6, TAG_WAKE, TAG_TIMER };

enum {
	DOWN_ADD = 1,
	DOWN_REMOVE,
	DOWN_RESYNC_BEGIN,
	DOWN_RESYNC_END,
	DOWN_LAYOUT,
	DOWN_PEER,
	DOWN_PMTU
};
enum { UP_REF = 1, UP_EA, UP_USED_REMOTE, UP_USED_LOCAL, UP_PEER, UP_PMTU };

/* What a worker learnt from a peer's datagrams: the port it sends from, our reference it used. */
struct peer_news {
	uint8_t ver;
	uint8_t encoded[16];
	uint16_t port;
	bool has_via;
	struct ipr_ref via;
};

struct pmtu_news {
	uint8_t ver;
	uint8_t addr[16];
	uint32_t mtu;
};

struct down_rec {
	uint8_t op;
	union {
		struct ipr_mapping m;
		struct dp_layout layout;
		struct peer_news peer;
		struct pmtu_news pmtu;
	} u;
};

struct up_rec {
	uint8_t op, ver, ctx_ver;
	bool replied;
	uint8_t addr[16]; /* the local address (UP_REF), context (UP_EA), encoded (UP_USED_REMOTE)
			   */
	struct ipr_ref ref;
	struct peer_news peer;
	struct pmtu_news pmtu;
};

/* A worker's counters as it last published them, read by the control thread. */
struct published {
	uint64_t counters[DP_C_COUNT];
	uint64_t drops[XLATE_DROP_COUNT];
	uint64_t off[OFF_C_COUNT];
	uint64_t gso_drops[GSO_DROP_COUNT];
	uint64_t wait_now;
	uint64_t frag[4];
};

struct dp_worker {
	struct dp dp; /* its forwarding state: batches, flow caches, waiting slots, tables */
	struct dp_workers *all;
	unsigned id;
	pthread_t thread;
	bool started;
	int ep, wake_fd, timer_fd;
	struct dp_ring down, up;
	bool down_dirty; /* control: records pushed since the last kick */
	bool up_dirty;	 /* worker: records pushed since the control was last woken */
	int stop;
	unsigned ticks;
	struct published pub;
};

struct dp_workers {
	unsigned n;
	int wake_fd; /* workers to control */
	struct dp *ctl;
	struct dp_worker *w[DPCONF_WORKERS];
};

static void store_all(uint64_t *to, const uint64_t *from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		__atomic_store_n(&to[i], from[i], __ATOMIC_RELAXED);
}

static void add_all(uint64_t *to, const uint64_t *from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		to[i] += __atomic_load_n(&from[i], __ATOMIC_RELAXED);
}

static void publish(struct dp_worker *wk)
{
	struct dp *dp = &wk->dp;
	uint64_t frag[4] = { dp->icmpfrag.stats.held, dp->icmpfrag.stats.released,
			     dp->icmpfrag.stats.expired, dp->icmpfrag.stats.evicted };
	uint64_t wait_now = dp->wait_now;

	store_all(wk->pub.counters, dp->counters, DP_C_COUNT);
	store_all(wk->pub.drops, dp->drops, XLATE_DROP_COUNT);
	store_all(wk->pub.off, dp->io.off.counters, OFF_C_COUNT);
	store_all(wk->pub.gso_drops, dp->io.off.drops, GSO_DROP_COUNT);
	store_all(&wk->pub.wait_now, &wait_now, 1);
	store_all(wk->pub.frag, frag, 4);
}

void dp_totals_of(const struct dp *dp, struct dp_totals *t)
{
	static const int flags[] = { OFF_C_TUN_TSO, OFF_C_TUN_USO, OFF_C_UDP_GSO, OFF_C_UDP_GRO };
	const struct dp_workers *w = dp->workers;

	memcpy(t->counters, dp->counters, sizeof(t->counters));
	memcpy(t->drops, dp->drops, sizeof(t->drops));
	memcpy(t->off, dp->io.off.counters, sizeof(t->off));
	memcpy(t->gso_drops, dp->io.off.drops, sizeof(t->gso_drops));
	t->wait_now = dp->wait_now;
	t->frag_held = dp->icmpfrag.stats.held;
	t->frag_released = dp->icmpfrag.stats.released;
	t->frag_expired = dp->icmpfrag.stats.expired;
	t->frag_evicted = dp->icmpfrag.stats.evicted;
	for (unsigned i = 0; w && i < w->n; i++) {
		const struct published *p = &w->w[i]->pub;
		uint64_t frag[4] = { 0 };

		add_all(t->counters, p->counters, DP_C_COUNT);
		add_all(t->drops, p->drops, XLATE_DROP_COUNT);
		add_all(t->off, p->off, OFF_C_COUNT);
		add_all(t->gso_drops, p->gso_drops, GSO_DROP_COUNT);
		add_all(&t->wait_now, &p->wait_now, 1);
		add_all(frag, p->frag, 4);
		t->frag_held += frag[0];
		t->frag_released += frag[1];
		t->frag_expired += frag[2];
		t->frag_evicted += frag[3];
	}
	/* what is on is a setting, the same in every worker: reported as one, not summed */
	for (size_t i = 0; w && i < sizeof(flags) / sizeof(flags[0]); i++)
		t->off[flags[i]] = __atomic_load_n(&w->w[0]->pub.off[flags[i]], __ATOMIC_RELAXED);
}

unsigned workers_count(const struct dp_workers *w)
{
	return w ? w->n : 0;
}

uint64_t workers_counter(const struct dp_workers *w, unsigned i, enum dp_counter c)
{
	return __atomic_load_n(&w->w[i]->pub.counters[c], __ATOMIC_RELAXED);
}

/* ---- worker to control ---- */

static void push_up(struct dp_worker *wk, const struct up_rec *u)
{
	if (dp_ring_push(&wk->up, u))
		wk->up_dirty = true;
	else
		wk->dp.counters[DP_C_CTL_LOST]++; /* like a full gwctld socket: asked again later */
}

void workers_ask_ref(struct dp_worker *wk, uint8_t ver, const uint8_t *addr)
{
	struct up_rec u = { .op = UP_REF, .ver = ver };

	memcpy(u.addr, addr, ver == 4 ? 4 : 16);
	push_up(wk, &u);
}

void workers_ask_ea(struct dp_worker *wk, uint8_t ver, uint8_t ctx_ver, const uint8_t *ctx,
		    const struct ipr_ref *ref)
{
	struct up_rec u = { .op = UP_EA, .ver = ver, .ctx_ver = ctx_ver, .ref = *ref };

	memcpy(u.addr, ctx, ctx_ver == 4 ? 4 : 16);
	push_up(wk, &u);
}

void workers_peer_learnt(struct dp_worker *wk, const struct maptab_remote *r)
{
	struct up_rec u = { .op = UP_PEER };

	u.peer = (struct peer_news){
		.ver = r->ver, .port = r->port, .has_via = r->has_via, .via = r->via
	};
	memcpy(u.peer.encoded, r->encoded, 16);
	push_up(wk, &u);
}

void workers_pmtu_learnt(struct dp_worker *wk, uint8_t ver, const uint8_t *addr, uint32_t mtu)
{
	struct up_rec u = { .op = UP_PMTU };

	u.pmtu = (struct pmtu_news){ .ver = ver, .mtu = mtu };
	memcpy(u.pmtu.addr, addr, 16);
	push_up(wk, &u);
}

static bool use_remote(void *ctx, const struct maptab_remote *r)
{
	struct dp_worker *wk = ctx;
	struct up_rec u = { .op = UP_USED_REMOTE, .ver = r->ver, .replied = r->replied };

	memcpy(u.addr, r->encoded, 16);
	if (!dp_ring_push(&wk->up, &u))
		return false; /* the mark stays for the next round */
	wk->up_dirty = true;
	return true;
}

static bool use_local(void *ctx, const struct maptab_local *l)
{
	struct dp_worker *wk = ctx;
	struct up_rec u = { .op = UP_USED_LOCAL, .ref = l->ref };

	if (!dp_ring_push(&wk->up, &u))
		return false;
	wk->up_dirty = true;
	return true;
}

static void wake(int fd)
{
	uint64_t one = 1;

	/* a full counter (never, in practice) still polls readable: nothing is lost */
	(void)!write(fd, &one, sizeof(one));
}

/* ---- control to worker ---- */

static void push_down(struct dp_workers *w, struct dp_worker *wk, const struct down_rec *d)
{
	while (!dp_ring_push(&wk->down, d)) {
		/* the worker drains its ring between batches: give it the time */
		struct timespec ts = { 0, FULL_WAIT_NS };
		wake(wk->wake_fd);
		nanosleep(&ts, NULL);
	}
	wk->down_dirty = true;
	(void)w;
}

static void push_all(struct dp_workers *w, const struct down_rec *d, const struct dp_worker *but)
{
	for (unsigned i = 0; w && i < w->n; i++)
		if (w->w[i] != but)
			push_down(w, w->w[i], d);
}

void workers_mapping(struct dp_workers *w, bool add, const struct ipr_mapping *m)
{
	struct down_rec d = { .op = add ? DOWN_ADD : DOWN_REMOVE };

	d.u.m = *m;
	push_all(w, &d, NULL);
}

void workers_resync(struct dp_workers *w, bool begin)
{
	struct down_rec d = { .op = begin ? DOWN_RESYNC_BEGIN : DOWN_RESYNC_END };

	push_all(w, &d, NULL);
}

void workers_layout(struct dp_workers *w, const struct dp_layout *layout)
{
	struct down_rec d = { .op = DOWN_LAYOUT };

	d.u.layout = *layout;
	push_all(w, &d, NULL);
}

void workers_kick(struct dp_workers *w)
{
	for (unsigned i = 0; w && i < w->n; i++) {
		if (w->w[i]->down_dirty) {
			w->w[i]->down_dirty = false;
			wake(w->w[i]->wake_fd);
		}
	}
}

int workers_wake_fd(const struct dp_workers *w)
{
	return w->wake_fd;
}

static void on_up(struct dp *ctl, struct dp_worker *from, const struct up_rec *u)
{
	struct down_rec d = { 0 };
	struct maptab_remote *r;
	struct maptab_local *l;

	switch (u->op) {
	case UP_REF:
		dpctl_request_ref(ctl, u->ver, u->addr);
		break;
	case UP_EA:
		dpctl_request_ea(ctl, u->ver, u->ctx_ver, u->addr, &u->ref);
		break;
	case UP_USED_REMOTE:
		r = maptab_find_encoded(ctl->tab, u->ver, u->addr);
		if (r) {
			r->used = true;
			r->replied |= u->replied;
		}
		break;
	case UP_USED_LOCAL:
		l = maptab_find_ref(ctl->tab, &u->ref);
		if (l)
			l->used = true;
		break;
	case UP_PEER:
		d.op = DOWN_PEER;
		d.u.peer = u->peer;
		push_all(ctl->workers, &d, from);
		break;
	case UP_PMTU:
		d.op = DOWN_PMTU;
		d.u.pmtu = u->pmtu;
		push_all(ctl->workers, &d, from);
		break;
	}
}

void workers_drain(struct dp *ctl)
{
	struct dp_workers *w = ctl->workers;
	uint64_t n;

	/* read first: records pushed after this wake the control again */
	(void)!read(w->wake_fd, &n, sizeof(n));
	for (unsigned i = 0; i < w->n; i++) {
		struct up_rec u;
		for (unsigned k = 0; k < UP_RECORDS && dp_ring_pop(&w->w[i]->up, &u); k++)
			on_up(ctl, w->w[i], &u);
	}
}

/* ---- the worker thread ---- */

static void apply_peer(struct dp *dp, const struct peer_news *p)
{
	struct maptab_remote *r = maptab_find_encoded(dp->tab, p->ver, p->encoded);

	if (!r)
		return;
	r->port = p->port;
	if (p->has_via) {
		r->via = p->via;
		r->has_via = true;
		dp->flow_out.generation =
			0; /* the cached outbound flow may use the other reference */
	}
}

/* Applies what the control sent, between batches; true when records are left for later. */
static bool apply_down(struct dp_worker *wk)
{
	struct dp *dp = &wk->dp;
	bool added = false;
	struct down_rec d;
	unsigned k;

	for (k = 0; k < DOWN_PER_WAKE && dp_ring_pop(&wk->down, &d); k++) {
		switch (d.op) {
		case DOWN_ADD:
			/* the control counted a full table already; the copy fails alike */
			added |= maptab_add(dp->tab, &d.u.m) == 0;
			break;
		case DOWN_REMOVE:
			/* one never held (a full table) is as fine here as there */
			if (maptab_remove(dp->tab, &d.u.m) < 0)
				break;
			break;
		case DOWN_RESYNC_BEGIN:
			maptab_resync_begin(dp->tab);
			break;
		case DOWN_RESYNC_END:
			(void)maptab_resync_end(dp->tab);
			break;
		case DOWN_LAYOUT:
			dp_layout_adopt(dp, &d.u.layout);
			break;
		case DOWN_PEER:
			apply_peer(dp, &d.u.peer);
			break;
		case DOWN_PMTU:
			pmtu_learn(dp->pmtu, d.u.pmtu.ver, d.u.pmtu.addr, d.u.pmtu.mtu,
				   ipr_clock_ms());
			dp->pmtu_floor = pmtu_sweep(dp->pmtu, dp->cfg.mtu, ipr_clock_ms());
			break;
		}
	}
	if (added)
		pump_retry(dp, ipr_clock_ms());
	return k == DOWN_PER_WAKE;
}

static void on_tick(struct dp_worker *wk)
{
	struct dp *dp = &wk->dp;
	uint64_t ticks;
	int64_t now = ipr_clock_ms();

	(void)!read(wk->timer_fd, &ticks, sizeof(ticks));
	forward_tick(dp, now);
	pump_retry(dp, now);
	if (++wk->ticks % USE_EVERY_TICKS == 0) {
		struct maptab_use_visitor v = { use_remote, use_local, wk };
		(void)maptab_collect_used(dp->tab, &v, UP_RECORDS / 2);
	}
	publish(wk);
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
		more = apply_down(wk);
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
			wake(wk->all->wake_fd);
		}
	}
	publish(wk);
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
			wake(wk->wake_fd);
			pthread_join(wk->thread, NULL);
		}
		worker_close(wk);
	}
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	free(w);
}
