/*
 * Forwarding on several threads (`workers = N`): each worker has a TUN queue, a UDP socket per
 * family, its own batches, flow caches, waiting slots, offload state and a copy of the mapping
 * tables; the main thread keeps the gwctld link and the authoritative tables, and feeds every
 * copy through a ring that the worker applies between its batches (docs/dataplane.md, Workers).
 */
#ifndef DP_WORKERS_H
#define DP_WORKERS_H

#include <stdbool.h>
#include <stdint.h>

#include "dp.h"
#include "gso.h"
#include "offload.h"

struct dp_workers;
struct dp_worker;

/*
 * cfg.workers workers for the control state ctl (its configuration and tables): TUN queues of
 * one multi-queue device (its index in *ifindex), shared-port UDP sockets, buffers and tables,
 * all opened and allocated here, before any thread runs. 0 or -errno (logged).
 */
IPR_MUST_CHECK int workers_new(struct dp *ctl, unsigned *ifindex, struct dp_workers **out);
/* Starts the threads (after the privileges were dropped: the threads inherit them). */
IPR_MUST_CHECK int workers_start(struct dp_workers *w);
/* Stops and joins the threads, closes and frees everything; NULL is fine. */
void workers_free(struct dp_workers *w);

/* The descriptor that polls readable when workers have questions or news for the control. */
int workers_wake_fd(const struct dp_workers *w);
/* Control thread: handles what the workers sent (questions for gwctld, use marks, peers). */
void workers_drain(struct dp *ctl);
/* Control thread: wakes the workers that have new records (once per control wake-up). */
void workers_kick(struct dp_workers *w);

/*
 * Control thread, called by the gwctld link for everything it does to the tables and layout:
 * each worker does the same to its copy, in the same order. Never lost: when a worker's ring
 * is full, the control thread waits for it (a worker always drains its ring).
 */
void workers_mapping(struct dp_workers *w, bool add, const struct ipr_mapping *m);
void workers_resync(struct dp_workers *w, bool begin);
void workers_layout(struct dp_workers *w, const struct dp_layout *layout);

/* Worker thread (through its sink): questions for gwctld, which the control thread asks. */
void workers_ask_ref(struct dp_worker *wk, uint8_t ver, const uint8_t *addr);
void workers_ask_ea(struct dp_worker *wk, uint8_t ver, uint8_t ctx_ver, const uint8_t *ctx,
		    const struct ipr_ref *ref);
/* Worker thread: a peer's port (and reference used) or path MTU learnt, for the other workers. */
void workers_peer_learnt(struct dp_worker *wk, const struct maptab_remote *r);
void workers_pmtu_learnt(struct dp_worker *wk, uint8_t ver, const uint8_t *addr, uint32_t mtu);

/* The counters of the whole dataplane: the control's own plus every worker's last publication. */
struct dp_totals {
	uint64_t counters[DP_C_COUNT];
	uint64_t drops[XLATE_DROP_COUNT];
	uint64_t off[OFF_C_COUNT];
	uint64_t gso_drops[GSO_DROP_COUNT];
	uint64_t wait_now;
	uint64_t frag_held, frag_released, frag_expired, frag_evicted;
};
void dp_totals_of(const struct dp *dp, struct dp_totals *t);

/* How many workers (0 without), and one worker's published counter, for per-worker reports. */
unsigned workers_count(const struct dp_workers *w);
uint64_t workers_counter(const struct dp_workers *w, unsigned i, enum dp_counter c);

#endif
