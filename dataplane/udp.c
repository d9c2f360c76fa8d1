/* Opening the tunnel's UDP sockets with the outer DF bit set, as spec/wire.md asks. */
#include "udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SOCKET_BUFFER (4 << 20)

static int open_port(int family, uint16_t port, bool shared)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, on = 1, buf = SOCKET_BUFFER, rc;
	/*
	 * DF on every datagram without the kernel's path-MTU cache refusing sends: the gateway
	 * sizes its packets itself (spec/wire.md, "IP_PMTUDISC_PROBE-style").
	 */
	int pmtu4 = IP_PMTUDISC_PROBE, pmtu6 = IPV6_PMTUDISC_PROBE;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sslen = sizeof(*sin);
		if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu4, sizeof(pmtu4)) < 0)
			goto fail;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sslen = sizeof(*sin6);
		/* IPv4 peers have their own socket: no mapped addresses here */
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu6, sizeof(pmtu6)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &on, sizeof(on)) < 0)
			goto fail;
	}
	/* larger buffers ride out bursts; failing to get them is not fatal */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (shared && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0)
		goto fail;
	return fd;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

int udp_open(int family, uint16_t port)
{
	return open_port(family, port, false);
}

int udp_open_shared(int family, uint16_t port)
{
	return open_port(family, port, true);
}

int udp_want_errors(int fd, int family)
{
	int on = 1;
	int rc = family == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on))
				   : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on));

	return rc < 0 ? -errno : 0;
}
