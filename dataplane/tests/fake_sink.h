/* A fake of what lies below forwarding: captures datagrams, TUN writes and gwctld questions. */
#ifndef DP_TESTS_FAKE_SINK_H
#define DP_TESTS_FAKE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dp.h"

#define FAKE_MAX 16
#define FAKE_LEN 2048

struct fake_pkt {
	int family;
	size_t len;
	struct sockaddr_storage to;
	uint8_t buf[FAKE_LEN];
};

struct fake_sink {
	bool no_ipv6, no_ipv4; /* no socket of that family */
	bool tun_fails;
	uint8_t slot[FAKE_LEN];
	unsigned sent_n, tun_n, want_ref_n, want_ea_n;
	struct fake_pkt sent[FAKE_MAX], tun[FAKE_MAX];
};

/* Points dp's forwarding at the fake. */
void fake_sink_attach(struct dp *dp, struct fake_sink *s);

#endif
