/* The dataplane's link to gwctld: subscription, allocation requests, use and counter reports. */
#ifndef DP_DPCTL_H
#define DP_DPCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "dp.h"

/* The workers whose own counters a report shows (worker0.tun.rx ...), and how many each. */
#define DPCTL_WORKERS_REPORTED 8
#define DPCTL_WORKER_COUNTERS  3

/*
 * Registers its socket with epoll_fd under tag whenever it is connected. The link connects
 * lazily from dpctl_tick and again after gwctld goes away; the tables keep working meanwhile.
 */
IPR_MUST_CHECK int dpctl_new(struct dp *dp, int epoll_fd, uint64_t tag, struct dpctl **out);
void dpctl_free(struct dpctl *ctl);

/* Reads everything waiting; returns true when mappings were added (waiting packets may go). */
bool dpctl_on_readable(struct dp *dp);

/* Connects when due, forgets stale requests, sends use and counter reports when due. */
void dpctl_tick(struct dp *dp, int64_t now_ms);

/*
 * Asks gwctld for a local host's reference, or for an encoded address of family ver for a
 * remote host, unless the same question is already out. Never blocks; a full socket or a full
 * table of questions just means the packet will wait in vain and be counted.
 */
void dpctl_request_ref(struct dp *dp, uint8_t ver, const uint8_t *addr);
void dpctl_request_ea(struct dp *dp, uint8_t ver, uint8_t ctx_ver, const uint8_t *ctx,
		      const struct ipr_ref *ref);

/* Whether the layout and the subscription's snapshot have been received. */
bool dpctl_synced(const struct dp *dp);

/*
 * Asks gwctld for the layout (RANGES) again: on connecting, when gwctld's EV_LAYOUT says a
 * reload changed it, and on SIGHUP. The answer is adopted when it differs from what is held.
 */
void dpctl_refresh_layout(struct dp *dp);

#endif
