/* The tunnel's UDP sockets: one per Internet family, DF on, large buffers, non-blocking. */
#ifndef DP_UDP_H
#define DP_UDP_H

#include <stdint.h>

#include "err.h"

/* Binds the wildcard address of family (AF_INET or AF_INET6) at port; returns the fd or -errno. */
IPR_MUST_CHECK int udp_open(int family, uint16_t port);

#endif
