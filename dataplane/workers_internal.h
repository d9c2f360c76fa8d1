/* What the worker threads and the main thread share: the records of their rings, a worker. */
#ifndef DP_WORKERS_INTERNAL_H
#define DP_WORKERS_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "ring.h"
#include "workers.h"

#define DOWN_RECORDS  1024 /* control to worker: table changes, layouts, peers */
#define UP_RECORDS    4096 /* worker to control: questions, use marks, peers */
#define DOWN_PER_WAKE 512  /* applied between two batches; the rest after the next */

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

/* Wakes the thread polling fd (an eventfd). */
static inline void workers_wake(int fd)
{
	uint64_t one = 1;

	/* a full counter (never, in practice) still polls readable: nothing is lost */
	(void)!write(fd, &one, sizeof(one));
}

/* Worker: its counters published for the control; its ring applied (true: more left). */
void workers_publish(struct dp_worker *wk);
bool workers_apply(struct dp_worker *wk);
/* Worker: the mappings it saw used since the last time, to the control. */
void workers_send_use(struct dp_worker *wk);

#endif
