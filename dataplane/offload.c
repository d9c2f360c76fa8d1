/* The I/O layer's kernel offloads: probing at start, falling back, and the batched I/O. */
#include "offload.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dpio.h"
#include "dpstats.h"
#include "log.h"
#include "tun.h"
#include "xlate.h"

/* Debian 12's headers predate UDP segmentation offload on TUN devices (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

/* A TUN read: the header and the largest super-packet the device makes (GSO_MAX_SIZE). */
#define TUN_READ_MAX (VNET_HDR_LEN + 65536)
/* A receive slot with UDP GRO: a whole coalesced buffer. */
#define RX_SLOT 65536
/* UDP_SEGMENT's limits on every kernel that has it: 64 segments, an IP datagram's length. */
#define GSO_MAX_RUN   64
#define GSO_MAX_BYTES 65000

const char *offload_counter_name(enum offload_counter c)
{
	static const char *const names[OFF_C_COUNT] = {
		[OFF_C_TUN_TSO] = "offload.tun_tso",
		[OFF_C_TUN_USO] = "offload.tun_uso",
		[OFF_C_UDP_GSO] = "offload.udp_gso",
		[OFF_C_UDP_GRO] = "offload.udp_gro",
		[OFF_C_TUN_SUPER] = "offload.tun_super_rx",
		[OFF_C_TUN_SEGMENTS] = "offload.tun_segments",
		[OFF_C_TUN_CSUM] = "offload.tun_csum_completed",
		[OFF_C_GSO_SENDS] = "offload.udp_gso_sends",
		[OFF_C_GSO_DATAGRAMS] = "offload.udp_gso_datagrams",
		[OFF_C_GSO_FALLBACK] = "offload.udp_gso_fallback",
		[OFF_C_GRO_RX] = "offload.udp_gro_rx",
		[OFF_C_GRO_DATAGRAMS] = "offload.udp_gro_datagrams",
		[OFF_C_TUN_GRO_SUPERS] = "offload.tun_gro_tx",
		[OFF_C_TUN_GRO_MERGED] = "offload.tun_gro_merged",
		[OFF_C_TUN_GRO_BADSUM] = "offload.tun_gro_bad_checksum",
	};

	return (unsigned)c < OFF_C_COUNT && names[c] ? names[c] : "unknown";
}

int offload_tun_open(struct dp_io *io, const char *name, bool want, unsigned *ifindex)
{
	struct dp_offload *o = &io->off;
	unsigned all = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	int fd;

	if (!want)
		return tun_open(name, ifindex);
	fd = tun_open_flags(name, ifindex, IFF_VNET_HDR);
	if (fd < 0) {
		log_info("%s: no virtio-net header (%s): plain packets", name, strerror(-fd));
		return tun_open(name, ifindex);
	}
	/* UDP segmentation came later than TCP's: try with it, then without */
	if (ioctl(fd, TUNSETOFFLOAD, all | TUN_F_USO4 | TUN_F_USO6) == 0) {
		o->counters[OFF_C_TUN_USO] = 1;
	} else if (ioctl(fd, TUNSETOFFLOAD, all) < 0) {
		log_info("%s: no TCP segmentation offload (%s): plain packets", name,
			 strerror(errno));
		close(fd);
		return tun_open(name, ifindex);
	}
	o->tun_vnet = true;
	o->counters[OFF_C_TUN_TSO] = 1;
	return fd;
}

/* Sets an option on every open UDP socket; when one refuses, it is turned off on all. */
static bool udp_option(struct dp_io *io, int opt, int on)
{
	int fds[] = { io->udp4_fd, io->udp6_fd }, off = 0;
	bool ok = true;

	for (size_t i = 0; i < 2; i++)
		if (fds[i] >= 0 && setsockopt(fds[i], SOL_UDP, opt, &on, sizeof(on)) < 0)
			ok = false;
	if (!ok)
		for (size_t i = 0; i < 2; i++)
			if (fds[i] >= 0)
				(void)setsockopt(fds[i], SOL_UDP, opt, &off, sizeof(off));
	return ok;
}

void offload_udp_setup(struct dp_io *io, bool gso, bool gro)
{
	struct dp_offload *o = &io->off;

	/* a gso_size of 0 per socket: each send says its own in a control message */
	o->udp_gso = gso && udp_option(io, UDP_SEGMENT, 0);
	o->udp_gro = gro && udp_option(io, UDP_GRO, 1);
	o->counters[OFF_C_UDP_GSO] = o->udp_gso;
	o->counters[OFF_C_UDP_GRO] = o->udp_gro;
	log_info("offloads: TUN TSO %s, USO %s, UDP GSO %s, UDP GRO %s", o->tun_vnet ? "on" : "off",
		 o->counters[OFF_C_TUN_USO] ? "on" : "off", o->udp_gso ? "on" : "off",
		 o->udp_gro ? "on" : "off");
}

static void tun_emit(void *ctx, const struct vnet_hdr *h, const uint8_t *pkt, size_t len,
		     unsigned segments)
{
	struct dp_io *io = ctx;
	uint8_t hdr[VNET_HDR_LEN];
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)pkt, len } };

	vnet_hdr_put(hdr, h);
	if (writev(io->tun_fd, iov, 2) != (ssize_t)(len + sizeof(hdr)))
		io->drops[XLATE_DROP_SEND_FAILED] += segments;
}

int offload_init(struct dp_io *io)
{
	struct dp_offload *o = &io->off;

	if (o->tun_vnet) {
		o->tun_read = malloc(TUN_READ_MAX);
		o->seg = malloc(io->slot_size);
		o->gro_mem = malloc((size_t)GRO_FLOWS * GRO_MAX_LEN);
		if (!o->tun_read || !o->seg || !o->gro_mem)
			return -ENOMEM;
		gro_init(&o->gro, o->gro_mem, tun_emit, io);
	}
	if (o->udp_gro) {
		o->udp_in = malloc((size_t)DP_BATCH * RX_SLOT);
		if (!o->udp_in)
			return -ENOMEM;
		for (unsigned i = 0; i < DP_BATCH; i++)
			io->in_iov[i] = (struct iovec){ o->udp_in + (size_t)i * RX_SLOT, RX_SLOT };
	}
	return 0;
}

void offload_deinit(struct dp_io *io)
{
	struct dp_offload *o = &io->off;

	free(o->tun_read);
	free(o->seg);
	free(o->gro_mem);
	free(o->udp_in);
}

bool offload_tun_next(struct dp_io *io, const uint8_t **pkt, size_t *len)
{
	struct dp_offload *o = &io->off;
	uint8_t *p = o->tun_read + VNET_HDR_LEN;
	int rc;

	for (;;) {
		if (o->splitting) {
			rc = gso_next(&o->split, o->seg, io->slot_size);
			if (rc > 0) {
				o->counters[OFF_C_TUN_SEGMENTS]++;
				*pkt = o->seg;
				*len = (size_t)rc;
				return true;
			}
			o->splitting = false;
			if (rc < 0)
				o->drops[-rc]++;
		}
		if (io->tun_reads >= DP_BATCH)
			return false;
		io->tun_reads++;

		ssize_t n = read(io->tun_fd, o->tun_read, TUN_READ_MAX);
		struct vnet_hdr h;
		size_t plen;

		if (n < 0) {
			io->tun_reads = DP_BATCH; /* drained: nothing more in this wake-up */
			return false;
		}
		if (vnet_hdr_get(o->tun_read, (size_t)n, &h) < 0) {
			o->drops[GSO_DROP_VNET]++;
			continue;
		}
		plen = (size_t)n - VNET_HDR_LEN;
		rc = gso_begin(&o->split, &h, p, plen);
		if (rc == 0) {
			o->counters[OFF_C_TUN_CSUM] += h.flags & VNET_F_NEEDS_CSUM;
			*pkt = p;
			*len = plen;
			return true;
		}
		if (rc > 0) {
			o->counters[OFF_C_TUN_SUPER]++;
			o->splitting = true;
		} else {
			o->drops[-rc]++;
		}
	}
}

static bool same_peer(const struct dp_batch *b, unsigned i, unsigned j)
{
	return b->msgs[i].msg_hdr.msg_namelen == b->msgs[j].msg_hdr.msg_namelen &&
	       memcmp(&b->to[i], &b->to[j], b->msgs[i].msg_hdr.msg_namelen) == 0;
}

/*
 * Groups the batch into messages: runs for one peer of equal sizes (the last may be shorter).
 * *open is whether the last run could still take another datagram of its size.
 */
static unsigned gso_plan(struct dp_offload *o, const struct dp_batch *b, bool *open)
{
	unsigned m = 0;

	*open = false;
	for (unsigned i = 0, j; i < b->n; i = j, m++) {
		size_t size = b->iov[i].iov_len, total = size;
		struct msghdr *mh = &o->gso_msgs[m].msg_hdr;

		for (j = i + 1; j < b->n && j - i < GSO_MAX_RUN && b->iov[j - 1].iov_len == size &&
				b->iov[j].iov_len <= size &&
				total + b->iov[j].iov_len <= GSO_MAX_BYTES && same_peer(b, i, j);
		     j++)
			total += b->iov[j].iov_len;
		*open = j == b->n && j - i < GSO_MAX_RUN && b->iov[j - 1].iov_len == size &&
			total + size <= GSO_MAX_BYTES;
		*mh = b->msgs[i].msg_hdr;
		mh->msg_iovlen = j - i;
		o->gso_first[m] = i;
		if (j - i > 1) {
			struct cmsghdr *c;
			uint16_t seg = (uint16_t)size;

			mh->msg_control = o->gso_ctl[m].buf;
			mh->msg_controllen = sizeof(o->gso_ctl[m].buf);
			c = CMSG_FIRSTHDR(mh);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(seg));
			memcpy(CMSG_DATA(c), &seg, sizeof(seg));
		}
	}
	return m;
}

unsigned offload_flush_gso(struct dp_io *io, struct dp_batch *b, bool keep_open, unsigned *end)
{
	struct dp_offload *o = &io->off;
	bool open;
	unsigned m = gso_plan(o, b, &open), k = 0;

	/* the last run waits for more, unless it is the whole batch (then nothing would move) */
	if (keep_open && open && m > 1) {
		m--;
		*end = o->gso_first[m];
	}
	while (k < m) {
		int n = sendmmsg(b->fd, o->gso_msgs + k, m - k, MSG_DONTWAIT);
		unsigned count;

		if (n > 0) {
			for (unsigned e = k + (unsigned)n; k < e; k++) {
				count = (unsigned)o->gso_msgs[k].msg_hdr.msg_iovlen;
				io->counters[DP_C_UDP_TX] += count;
				if (count > 1) {
					o->counters[OFF_C_GSO_SENDS]++;
					o->counters[OFF_C_GSO_DATAGRAMS] += count;
				}
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		count = (unsigned)o->gso_msgs[k].msg_hdr.msg_iovlen;
		/*
		 * EIO: the route's device cannot checksum (kernels before 6.11) or the route
		 * goes through IPsec: never GSO again. Other errors lose this run only.
		 */
		if (count > 1 && n < 0 && errno == EIO) {
			log_warn("UDP GSO send refused (%s): datagrams go one by one from now on",
				 strerror(errno));
			o->udp_gso = false;
			o->counters[OFF_C_UDP_GSO] = 0;
			o->counters[OFF_C_GSO_FALLBACK]++;
			return o->gso_first[k];
		}
		/* a segment larger than the route's MTU is EINVAL with GSO, EMSGSIZE without */
		if (errno == EMSGSIZE || (count > 1 && errno == EINVAL))
			io->drops[XLATE_DROP_TOO_BIG] += count;
		else
			io->drops[XLATE_DROP_SEND_FAILED] += count;
		k++;
	}
	return *end;
}

void offload_prepare_recv(struct dp_io *io, unsigned i)
{
	struct msghdr *mh = &io->in_msgs[i].msg_hdr;

	mh->msg_control = io->off.udp_gro ? io->off.gro_ctl[i].buf : NULL;
	mh->msg_controllen = io->off.udp_gro ? sizeof(io->off.gro_ctl[i].buf) : 0;
}

size_t offload_gro_size(struct dp_io *io, unsigned i)
{
	struct dp_offload *o = &io->off;
	struct msghdr *mh = &io->in_msgs[i].msg_hdr;
	size_t len = io->in_msgs[i].msg_len, size = 0;

	for (struct cmsghdr *c = o->udp_gro ? CMSG_FIRSTHDR(mh) : NULL; c; c = CMSG_NXTHDR(mh, c)) {
		int v;
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(v))) {
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			size = v > 0 ? (size_t)v : 0;
		}
	}
	if (size == 0 || size >= len)
		return 0;
	o->counters[OFF_C_GRO_RX]++;
	return size;
}

void offload_tun_write(struct dp_io *io, const uint8_t *pkt, size_t len)
{
	gro_add(&io->off.gro, pkt, len);
}

void offload_tun_flush(struct dp_io *io)
{
	struct dp_offload *o = &io->off;

	if (!o->tun_vnet)
		return;
	gro_flush(&o->gro);
	o->counters[OFF_C_TUN_GRO_SUPERS] = o->gro.supers;
	o->counters[OFF_C_TUN_GRO_MERGED] = o->gro.merged;
	o->counters[OFF_C_TUN_GRO_BADSUM] = o->gro.bad_csum;
}
