/* Opening the TUN device and configuring it with rtnetlink requests, never by running ip(8). */
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"
#include "xlate.h"

static short queue_flags; /* IFF_MULTI_QUEUE with workers; set before any thread starts */

void tun_multi_queue(bool on)
{
	queue_flags = on ? IFF_MULTI_QUEUE : 0;
}

int tun_open(const char *name, unsigned *ifindex)
{
	return tun_open_flags(name, ifindex, 0);
}

int tun_open_flags(const char *name, unsigned *ifindex, short flags)
{
	struct ifreq ifr;
	int fd, rc;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | queue_flags | flags);
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	/* the index, read on a socket since the TUN fd knows only the name */
	{
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			goto fail;
		rc = ioctl(s, SIOCGIFINDEX, &ifr);
		close(s);
		if (rc < 0)
			goto fail;
	}
	*ifindex = (unsigned)ifr.ifr_ifindex;
	return fd;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

/* A request with room for a few attributes. */
struct nl_req {
	struct nlmsghdr nh;
	union {
		struct ifinfomsg ifi;
		struct rtmsg rt;
	};
	uint8_t attrs[128];
};

static void add_attr(struct nl_req *req, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((uint8_t *)req + NLMSG_ALIGN(req->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	req->nh.nlmsg_len = NLMSG_ALIGN(req->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Sends one request and waits for its acknowledgement; the kernel's error is the result. */
static int nl_call(struct nl_req *req)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr nh;
		uint8_t buf[1024];
	} reply;
	int fd, rc;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	req->nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	req->nh.nlmsg_seq = 1;
	if (sendto(fd, req, req->nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		rc = -errno;
		goto out;
	}
	n = recv(fd, &reply, sizeof(reply), 0);
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	if (!NLMSG_OK(&reply.nh, (size_t)n) || reply.nh.nlmsg_type != NLMSG_ERROR) {
		rc = -EPROTO;
		goto out;
	}
	rc = ((struct nlmsgerr *)NLMSG_DATA(&reply.nh))->error;
out:
	close(fd);
	return rc;
}

int tun_link_up(unsigned ifindex, uint32_t mtu)
{
	struct nl_req req;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	req.nh.nlmsg_type = RTM_NEWLINK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = (int)ifindex;
	req.ifi.ifi_flags = IFF_UP;
	req.ifi.ifi_change = IFF_UP;
	add_attr(&req, IFLA_MTU, &mtu, sizeof(mtu));
	return nl_call(&req);
}

static int route_call(uint16_t type, uint16_t flags, unsigned ifindex, int family,
		      const uint8_t *prefix, unsigned len)
{
	struct nl_req req;
	uint32_t oif = ifindex;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = type;
	req.nh.nlmsg_flags = flags;
	req.rt.rtm_family = (unsigned char)family;
	req.rt.rtm_dst_len = (unsigned char)len;
	req.rt.rtm_table = RT_TABLE_MAIN;
	req.rt.rtm_protocol = RTPROT_STATIC;
	req.rt.rtm_scope = RT_SCOPE_LINK;
	req.rt.rtm_type = RTN_UNICAST;
	add_attr(&req, RTA_DST, prefix, family == AF_INET ? 4 : 16);
	add_attr(&req, RTA_OIF, &oif, sizeof(oif));
	return nl_call(&req);
}

int tun_route(unsigned ifindex, int family, const uint8_t *prefix, unsigned len)
{
	return route_call(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, ifindex, family, prefix, len);
}

int tun_route_del(unsigned ifindex, int family, const uint8_t *prefix, unsigned len)
{
	int rc = route_call(RTM_DELROUTE, 0, ifindex, family, prefix, len);

	return rc == -ESRCH ? 0 : rc; /* gone already (an administrator, the link) is fine */
}

uint32_t tun_mtu_for(uint32_t path_mtu, bool ipv6_internet, uint32_t ref_bytes)
{
	uint32_t outer = ipv6_internet ? 40 : 20, ctx = ipv6_internet ? 16 : 4;
	uint32_t ipref = DP_WIRE_FIXED_LEN + DP_WIRE_FRAG_LEN + 2 * ctx + 2 * ref_bytes;

	return path_mtu - outer - 8 - ipref + XLATE_IPV4_HDR;
}
