/* Reading the kernel's extended errors (IP_RECVERR, IPV6_RECVERR) out of a control buffer. */
#include "errqueue.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h> /* before linux/errqueue.h, which needs struct timespec */
#include <linux/errqueue.h>
#include <netinet/in.h>

#define ICMP4_UNREACH  3
#define ICMP4_NEEDFRAG 4
#define ICMP6_TOO_BIG  2

void errqueue_begin(struct errqueue_walk *w, const struct msghdr *m)
{
	w->m = m;
	w->next = CMSG_FIRSTHDR(m);
}

static bool is_error(const struct cmsghdr *c)
{
	return (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
	       (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR);
}

static enum errqueue_kind classify(const struct msghdr *m, const struct cmsghdr *c, uint32_t *mtu)
{
	size_t room =
		(size_t)((const uint8_t *)m->msg_control + m->msg_controllen - (const uint8_t *)c);
	struct sock_extended_err ee;
	bool too_big;

	/*
	 * CMSG_NXTHDR vouches for a header, not for the data its cmsg_len claims (the first and
	 * last messages least of all): a cut message is an error we cannot read.
	 */
	if (c->cmsg_len < CMSG_LEN(sizeof(ee)) || c->cmsg_len > room)
		return ERRQUEUE_OTHER;
	memcpy(&ee, CMSG_DATA(c), sizeof(ee));
	too_big = (ee.ee_origin == SO_EE_ORIGIN_ICMP && ee.ee_type == ICMP4_UNREACH &&
		   ee.ee_code == ICMP4_NEEDFRAG) ||
		  (ee.ee_origin == SO_EE_ORIGIN_ICMP6 && ee.ee_type == ICMP6_TOO_BIG) ||
		  (ee.ee_origin == SO_EE_ORIGIN_LOCAL && ee.ee_errno == EMSGSIZE);
	/* a too-big without an MTU says nothing we could size datagrams by */
	if (!too_big || ee.ee_info == 0)
		return ERRQUEUE_OTHER;
	*mtu = ee.ee_info;
	return ERRQUEUE_TOO_BIG;
}

enum errqueue_kind errqueue_next(struct errqueue_walk *w, uint32_t *mtu)
{
	while (w->next) {
		struct cmsghdr *c = w->next;

		w->next = CMSG_NXTHDR((struct msghdr *)w->m, c);
		if (is_error(c))
			return classify(w->m, c, mtu);
	}
	return ERRQUEUE_END;
}
