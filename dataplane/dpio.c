/* The I/O layer's plain half: send batches, TUN reads and writes, received datagrams in turn. */
#include "dpio.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dpstats.h"
#include "xlate.h"

static void batch_init(struct dp_batch *b, int fd, uint8_t *bufs)
{
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->bufs = bufs;
}

int dpio_init(struct dp_io *io, size_t slot_size, uint64_t *counters, uint64_t *drops)
{
	size_t s = slot_size;
	uint8_t *out;

	io->slot_size = s;
	io->counters = counters;
	io->drops = drops;
	io->tun_in = malloc(s);
	io->udp_in = malloc(DP_BATCH * s);
	out = malloc(2 * DP_BATCH * s);
	if (!io->tun_in || !io->udp_in || !out) {
		free(out);
		return -ENOMEM;
	}
	batch_init(&io->out4, io->udp4_fd, out);
	batch_init(&io->out6, io->udp6_fd, out + DP_BATCH * s);
	for (unsigned i = 0; i < DP_BATCH; i++) {
		io->in_iov[i] = (struct iovec){ io->udp_in + i * s, s };
		io->in_msgs[i].msg_hdr.msg_iov = &io->in_iov[i];
		io->in_msgs[i].msg_hdr.msg_iovlen = 1;
	}
	/* with GRO on, its larger receive slots replace the plain ones */
	return offload_init(io);
}

void dpio_deinit(struct dp_io *io)
{
	offload_deinit(io);
	free(io->tun_in);
	free(io->udp_in);
	free(io->out4.bufs); /* both batches share one block */
}

static uint8_t *batch_buf(struct dp_io *io, const struct dp_batch *b, unsigned i)
{
	return b->bufs + (size_t)((b->head + i) % DP_BATCH) * io->slot_size;
}

/* Datagrams [from, n) become the batch's first ones, their buffers where they are. */
static void batch_keep(struct dp_batch *b, unsigned from)
{
	for (unsigned i = from; i < b->n; i++) {
		unsigned k = i - from;
		b->to[k] = b->to[i];
		b->iov[k] = b->iov[i];
		b->msgs[k].msg_hdr = b->msgs[i].msg_hdr;
		b->msgs[k].msg_hdr.msg_name = &b->to[k];
		b->msgs[k].msg_hdr.msg_iov = &b->iov[k];
	}
	b->head = (b->head + from) % DP_BATCH;
	b->n -= from;
}

/*
 * Sends the batch; a full one (more is coming in this wake-up) keeps back its last GSO run while
 * that may still grow, so that trains are as long as the kernel allows.
 */
static void batch_flush(struct dp_io *io, struct dp_batch *b, bool full)
{
	unsigned end = b->n;
	/* what GSO did not send goes one by one */
	unsigned done = io->off.udp_gso ? offload_flush_gso(io, b, full, &end) : 0;

	while (done < end) {
		int n = sendmmsg(b->fd, b->msgs + done, end - done, MSG_DONTWAIT);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			/* the first unsent datagram failed (full buffer, no route, EMSGSIZE) */
			io->drops[errno == EMSGSIZE ? XLATE_DROP_TOO_BIG
						    : XLATE_DROP_SEND_FAILED]++;
			done++;
			continue;
		}
		io->counters[DP_C_UDP_TX] += (unsigned)n;
		done += (unsigned)n;
	}
	batch_keep(b, end);
}

static struct dp_batch *batch_of(struct dp_io *io, int family)
{
	return family == AF_INET ? &io->out4 : &io->out6;
}

uint8_t *dpio_send_slot(struct dp_io *io, int family)
{
	struct dp_batch *b = batch_of(io, family);

	if (b->fd < 0)
		return NULL;
	if (b->n == DP_BATCH)
		batch_flush(io, b, true);
	return batch_buf(io, b, b->n);
}

void dpio_send_commit(struct dp_io *io, int family, size_t len, const struct sockaddr_storage *to)
{
	struct dp_batch *b = batch_of(io, family);

	b->to[b->n] = *to;
	b->iov[b->n] = (struct iovec){ batch_buf(io, b, b->n), len };
	b->msgs[b->n].msg_hdr =
		(struct msghdr){ .msg_name = &b->to[b->n],
				 .msg_namelen = to->ss_family == AF_INET
							? sizeof(struct sockaddr_in)
							: sizeof(struct sockaddr_in6),
				 .msg_iov = &b->iov[b->n],
				 .msg_iovlen = 1 };
	if (++b->n == DP_BATCH)
		batch_flush(io, b, true);
}

int dpio_tun_write(struct dp_io *io, const uint8_t *pkt, size_t len)
{
	if (!io->off.tun_vnet)
		return write(io->tun_fd, pkt, len) == (ssize_t)len ? 0 : -XLATE_DROP_SEND_FAILED;
	offload_tun_write(io, pkt, len);
	return 0;
}

void dpio_flush(struct dp_io *io)
{
	batch_flush(io, &io->out4, false);
	batch_flush(io, &io->out6, false);
	offload_tun_flush(io);
}

void dpio_tun_begin(struct dp_io *io)
{
	io->tun_reads = 0;
}

bool dpio_tun_next(struct dp_io *io, const uint8_t **pkt, size_t *len)
{
	ssize_t n;

	if (io->off.tun_vnet)
		return offload_tun_next(io, pkt, len);
	if (io->tun_reads >= DP_BATCH)
		return false;
	io->tun_reads++;
	n = read(io->tun_fd, io->tun_in, io->slot_size);
	if (n < 0) {
		io->tun_reads = DP_BATCH; /* drained: nothing more in this wake-up */
		return false;
	}
	*pkt = io->tun_in;
	*len = (size_t)n;
	return true;
}

void dpio_udp_recv(struct dp_io *io, int fd)
{
	int n;

	for (unsigned i = 0; i < DP_BATCH; i++) {
		io->in_msgs[i].msg_hdr.msg_name = &io->in_from[i];
		io->in_msgs[i].msg_hdr.msg_namelen = sizeof(io->in_from[i]);
		io->in_msgs[i].msg_hdr.msg_flags = 0;
		offload_prepare_recv(io, i);
	}
	n = recvmmsg(fd, io->in_msgs, DP_BATCH, MSG_DONTWAIT, NULL);
	io->in_n = n > 0 ? (unsigned)n : 0;
	io->in_i = 0;
	io->in_off = io->in_size = 0;
}

bool dpio_udp_next(struct dp_io *io, const uint8_t **pkt, size_t *len,
		   const struct sockaddr_storage **from)
{
	for (;;) {
		const uint8_t *p;
		size_t total;

		if (io->in_i >= io->in_n)
			return false;
		p = io->in_iov[io->in_i].iov_base;
		total = io->in_msgs[io->in_i].msg_len;
		if (io->in_size) {
			/* the next piece of a coalesced buffer */
			if (io->in_off >= total) {
				io->in_size = io->in_off = 0;
				io->in_i++;
				continue;
			}
			io->off.counters[OFF_C_GRO_DATAGRAMS]++;
			*pkt = p + io->in_off;
			*len = total - io->in_off < io->in_size ? total - io->in_off : io->in_size;
			*from = &io->in_from[io->in_i];
			io->in_off += io->in_size;
			return true;
		}
		if (io->in_msgs[io->in_i].msg_hdr.msg_flags & MSG_TRUNC) {
			io->counters[DP_C_UDP_RX]++;
			io->drops[XLATE_DROP_TOO_BIG]++;
			io->in_i++;
			continue;
		}
		io->in_size = offload_gro_size(io, io->in_i);
		if (io->in_size)
			continue; /* coalesced: its pieces in turn */
		*pkt = p;
		*len = total;
		*from = &io->in_from[io->in_i++];
		return true;
	}
}
