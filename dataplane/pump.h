/*
 * The daemon's packet pump, the one place that joins the layers: it takes what the I/O layer
 * read, hands it to forwarding packet by packet, and gives forwarding a sink that is the I/O
 * layer's send batches and TUN writes and the gwctld link's questions.
 */
#ifndef DP_PUMP_H
#define DP_PUMP_H

#include "dp.h"

/* Points dp's forwarding at the I/O layer and the gwctld link. */
void pump_attach(struct dp *dp);

/* Reads what the TUN device or a UDP socket has (up to DP_BATCH), forwards it, flushes. */
void pump_tun(struct dp *dp);
void pump_udp(struct dp *dp, int fd);
/* The socket's error queue: path MTUs and other errors the kernel reports about peers. */
void pump_udp_errors(struct dp *dp, int fd);
/* Waiting packets another try (after mappings arrived, or on the timer), then flushes. */
void pump_retry(struct dp *dp, int64_t now_ms);

#endif
