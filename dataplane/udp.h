/* The tunnel's UDP sockets: one per Internet family, DF on, large buffers, non-blocking. */
#ifndef DP_UDP_H
#define DP_UDP_H

#include <stdint.h>

#include "err.h"

/* Binds the wildcard address of family (AF_INET or AF_INET6) at port; returns the fd or -errno. */
IPR_MUST_CHECK int udp_open(int family, uint16_t port);
/*
 * The same with SO_REUSEPORT, one per worker: the kernel gives each datagram to one of the
 * sockets by a hash of its addresses and ports, so a peer gateway's datagrams all reach one.
 */
IPR_MUST_CHECK int udp_open_shared(int family, uint16_t port);

/*
 * Queues the errors the kernel learns about the socket's datagrams (IP_RECVERR): routers'
 * "too big" with their MTU, a peer's port unreachable. Whoever turns this on must read them
 * (MSG_ERRQUEUE) when the socket polls as in error, or it polls so forever.
 */
IPR_MUST_CHECK int udp_want_errors(int fd, int family);

#endif
