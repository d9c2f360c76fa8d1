/* The dataplane benchmark's baseline: a plain TUN<->UDP relay, batched alike, with no translation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tun.h"
#include "udp.h"

#define BATCH 64
#define SLOT  2048

static uint8_t out_bufs[BATCH][SLOT], in_bufs[BATCH][SLOT];

/* TUN packets go to the one peer as they are, in sendmmsg batches like the dataplane's. */
static void tun_to_udp(int tun, int udp, struct sockaddr_in *peer)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	unsigned n = 0, done = 0;

	for (; n < BATCH; n++) {
		ssize_t len = read(tun, out_bufs[n], SLOT);
		if (len < 0)
			break;
		iov[n] = (struct iovec){ out_bufs[n], (size_t)len };
		msgs[n].msg_hdr = (struct msghdr){ .msg_name = peer,
						   .msg_namelen = sizeof(*peer),
						   .msg_iov = &iov[n],
						   .msg_iovlen = 1 };
	}
	while (done < n) {
		int sent = sendmmsg(udp, msgs + done, n - done, MSG_DONTWAIT);
		done += sent > 0 ? (unsigned)sent : 1; /* a failed datagram is dropped */
	}
}

static void udp_to_tun(int udp, int tun)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	int n;

	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ in_bufs[i], SLOT };
		msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	n = recvmmsg(udp, msgs, BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++)
		if (write(tun, in_bufs[i], msgs[i].msg_len) < 0 && errno != EAGAIN)
			perror("write");
}

int main(int argc, char **argv)
{
	struct sockaddr_in peer = { .sin_family = AF_INET };
	struct epoll_event ev, events[4];
	uint8_t prefix[16] = { 0 };
	unsigned ifindex, prefix_len;
	int tun, udp, ep;

	if (argc != 7 || inet_pton(AF_INET, argv[4], &peer.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[6], prefix) != 1) {
		fprintf(stderr, "usage: relay TUN MTU PORT PEER-IPV4 PEER-PORT ROUTE-PREFIX/24\n");
		return 2;
	}
	peer.sin_port = htons((uint16_t)atoi(argv[5]));
	prefix_len = 24;
	tun = tun_open(argv[1], &ifindex);
	if (tun < 0 || tun_link_up(ifindex, (uint32_t)atoi(argv[2])) < 0 ||
	    tun_route(ifindex, AF_INET, prefix, prefix_len) < 0) {
		fprintf(stderr, "relay: cannot set up %s\n", argv[1]);
		return 1;
	}
	udp = udp_open(AF_INET, (uint16_t)atoi(argv[3]));
	ep = epoll_create1(0);
	if (udp < 0 || ep < 0)
		return 1;
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = tun };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tun, &ev) < 0)
		return 1;
	ev.data.fd = udp;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, udp, &ev) < 0)
		return 1;
	for (;;) {
		int n = epoll_wait(ep, events, 4, -1);
		for (int i = 0; i < n; i++) {
			if (events[i].data.fd == tun)
				tun_to_udp(tun, udp, &peer);
			else
				udp_to_tun(udp, tun);
		}
	}
}
