/* The rings between the workers and the main thread, both ways, and the workers' counters. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "dpctl.h"
#include "layout.h"
#include "pmtu.h"
#include "pump.h"
#include "workers_internal.h"

#define FULL_WAIT_NS 100000

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

void workers_publish(struct dp_worker *wk)
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

void workers_send_use(struct dp_worker *wk)
{
	struct maptab_use_visitor v = { use_remote, use_local, wk };

	(void)maptab_collect_used(wk->dp.tab, &v, UP_RECORDS / 2);
}

/* ---- control to worker ---- */

static void push_down(struct dp_workers *w, struct dp_worker *wk, const struct down_rec *d)
{
	while (!dp_ring_push(&wk->down, d)) {
		/* the worker drains its ring between batches: give it the time */
		struct timespec ts = { 0, FULL_WAIT_NS };
		workers_wake(wk->wake_fd);
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
			workers_wake(w->w[i]->wake_fd);
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
bool workers_apply(struct dp_worker *wk)
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
