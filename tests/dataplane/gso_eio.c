/* Test shim (LD_PRELOAD) standing for kernels that do less: by default UDP_SEGMENT sends fail
 * with EIO, as the kernel's do on a route whose device cannot checksum (before Linux 6.11) or
 * that goes through IPsec; with GSO_SHIM=old-kernel the start-up probes are refused instead
 * (no UDP_SEGMENT or UDP_GRO option, a TUN device without offloads), as before Linux 4.18. */
#include <dlfcn.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static void *next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static bool old_kernel(void)
{
	const char *mode = getenv("GSO_SHIM");

	return mode && strcmp(mode, "old-kernel") == 0;
}

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
	int (*real)(int, struct mmsghdr *, unsigned int, int);
	void *sym = next("sendmmsg");
	unsigned int k = 0;

	memcpy(&real, &sym, sizeof(sym));
	while (!old_kernel() && k < n && !has_gso(&msgs[k].msg_hdr))
		k++;
	if (!old_kernel() && n > 0 && k == 0) {
		errno = EIO;
		return -1;
	}
	return real(fd, msgs, old_kernel() ? n : k, flags);
}

int setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	int (*real)(int, int, int, const void *, socklen_t);
	void *sym = next("setsockopt");

	memcpy(&real, &sym, sizeof(sym));
	if (old_kernel() && level == IPPROTO_UDP && (name == UDP_SEGMENT || name == UDP_GRO)) {
		errno = ENOPROTOOPT;
		return -1;
	}
	return real(fd, level, name, value, len);
}

int ioctl(int fd, unsigned long request, ...)
{
	int (*real)(int, unsigned long, void *);
	void *sym = next("ioctl"), *arg;
	va_list ap;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	memcpy(&real, &sym, sizeof(sym));
	if (old_kernel() && request == TUNSETOFFLOAD) {
		errno = EINVAL;
		return -1;
	}
	return real(fd, request, arg);
}
