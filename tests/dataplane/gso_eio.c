/* Test shim (LD_PRELOAD): UDP_SEGMENT sends fail with EIO, as the kernel's do on a route whose
 * device cannot checksum (before Linux 6.11) or that goes through IPsec. */
#include <dlfcn.h>
#include <stdbool.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>

static bool has_gso(struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
		if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_SEGMENT)
			return true;
	return false;
}

/* Sends what comes before the first GSO message; that one fails as the kernel would fail it. */
int sendmmsg(int fd, struct mmsghdr *msgs, unsigned int n, int flags)
{
	static int (*real)(int, struct mmsghdr *, unsigned int, int);
	unsigned int k = 0;

	if (!real) {
		void *sym = dlsym(RTLD_NEXT, "sendmmsg");
		memcpy(&real, &sym, sizeof(sym));
	}
	while (k < n && !has_gso(&msgs[k].msg_hdr))
		k++;
	if (n > 0 && k == 0) {
		errno = EIO;
		return -1;
	}
	return real(fd, msgs, k, flags);
}
