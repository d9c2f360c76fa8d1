/* Error-queue messages parsed without a socket: a peer's path MTU, or another error. */
#ifndef DP_ERRQUEUE_H
#define DP_ERRQUEUE_H

#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

/* What one control message of an error-queue read says. */
enum errqueue_kind {
	ERRQUEUE_END = 0,     /* no more IP_RECVERR / IPV6_RECVERR messages */
	ERRQUEUE_TOO_BIG = 1, /* fragmentation needed, packet too big or local EMSGSIZE, MTU > 0 */
	ERRQUEUE_OTHER = 2,   /* any other error, a too-big one without an MTU, or a cut one */
};

/*
 * A walk over the control messages of one recvmsg(MSG_ERRQUEUE), one error at a time, so that
 * the caller can learn each MTU in turn (a message may carry several). Control messages of
 * other levels and types are passed over. The buffer is only read, never past msg_controllen.
 */
struct errqueue_walk {
	const struct msghdr *m;
	struct cmsghdr *next;
};

void errqueue_begin(struct errqueue_walk *w, const struct msghdr *m);

/* The next error: ERRQUEUE_TOO_BIG with *mtu set (never 0), ERRQUEUE_OTHER, or ERRQUEUE_END. */
IPR_MUST_CHECK enum errqueue_kind errqueue_next(struct errqueue_walk *w, uint32_t *mtu);

#endif
