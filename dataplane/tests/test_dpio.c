/* The I/O layer, plain: TUN reads a batch at a time, send batches, received datagrams in turn. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "dpio.h"
#include "dpstats.h"
#include "xlate.h"

#define SLOT 256

static uint64_t counters[DP_C_COUNT], drops[XLATE_DROP_COUNT];

static int udp_loopback(struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

static void io_open(struct dp_io *io, int tun_fd, int udp4_fd)
{
	memset(io, 0, sizeof(*io));
	memset(counters, 0, sizeof(counters));
	memset(drops, 0, sizeof(drops));
	io->tun_fd = tun_fd;
	io->udp4_fd = udp4_fd;
	io->udp6_fd = -1;
	assert_int_equal(dpio_init(io, SLOT, counters, drops), 0);
}

/* A TUN device is a datagram descriptor: a socketpair stands in for it. */
static void test_tun_batches(void **state)
{
	struct dp_io io;
	int sp[2];
	uint8_t pkt[100];
	const uint8_t *got;
	size_t len;
	unsigned n = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sp), 0);
	io_open(&io, sp[0], -1);
	for (unsigned i = 0; i < DP_BATCH + 6; i++) {
		memset(pkt, (int)i, sizeof(pkt));
		assert_int_equal(write(sp[1], pkt, 20 + i), (ssize_t)(20 + i));
	}
	/* one wake-up takes a batch, the next the rest, in order */
	dpio_tun_begin(&io);
	while (dpio_tun_next(&io, &got, &len)) {
		assert_int_equal(len, 20 + n);
		assert_int_equal(got[0], n);
		n++;
	}
	assert_int_equal(n, DP_BATCH);
	dpio_tun_begin(&io);
	while (dpio_tun_next(&io, &got, &len))
		n++;
	assert_int_equal(n, DP_BATCH + 6);
	dpio_tun_begin(&io);
	assert_false(dpio_tun_next(&io, &got, &len));

	/* writes go to the device as they are */
	assert_int_equal(dpio_tun_write(&io, pkt, 33), 0);
	assert_int_equal(read(sp[1], pkt, sizeof(pkt)), 33);
	dpio_deinit(&io);
	close(sp[0]);
	close(sp[1]);
}

static void test_send_and_receive(void **state)
{
	struct sockaddr_storage a_addr, b_addr;
	int a = udp_loopback(&a_addr), b = udp_loopback(&b_addr);
	struct dp_io io;
	const struct sockaddr_storage *from;
	const uint8_t *got;
	uint8_t buf[SLOT + 100];
	size_t len;
	unsigned n = 0;

	(void)state;
	io_open(&io, -1, a);
	assert_null(dpio_send_slot(&io, AF_INET6)); /* no socket of that family */

	/* more than a batch: the full batch goes at once, the rest at the flush */
	for (unsigned i = 0; i < DP_BATCH + 2; i++) {
		uint8_t *slot = dpio_send_slot(&io, AF_INET);
		assert_non_null(slot);
		memset(slot, (int)i, 40);
		dpio_send_commit(&io, AF_INET, 40, &b_addr);
	}
	assert_int_equal(counters[DP_C_UDP_TX], DP_BATCH);
	dpio_flush(&io);
	assert_int_equal(counters[DP_C_UDP_TX], DP_BATCH + 2);
	for (unsigned i = 0; i < DP_BATCH + 2; i++) {
		assert_int_equal(recv(b, buf, sizeof(buf), 0), 40);
		assert_int_equal(buf[0], (uint8_t)i);
	}

	/* from the peer: datagrams in turn, each with its sender; one too long is dropped */
	memset(buf, 7, sizeof(buf));
	assert_int_equal(
		sendto(b, buf, 50, 0, (struct sockaddr *)&a_addr, sizeof(struct sockaddr_in)), 50);
	assert_int_equal(sendto(b, buf, SLOT + 50, 0, (struct sockaddr *)&a_addr,
				sizeof(struct sockaddr_in)),
			 SLOT + 50);
	assert_int_equal(
		sendto(b, buf, 60, 0, (struct sockaddr *)&a_addr, sizeof(struct sockaddr_in)), 60);
	dpio_udp_recv(&io, a);
	while (dpio_udp_next(&io, &got, &len, &from)) {
		assert_int_equal(len, n ? 60 : 50);
		assert_memory_equal(&((const struct sockaddr_in *)from)->sin_port,
				    &((struct sockaddr_in *)&b_addr)->sin_port, 2);
		n++;
	}
	assert_int_equal(n, 2);
	assert_int_equal(drops[XLATE_DROP_TOO_BIG], 1);
	assert_int_equal(counters[DP_C_UDP_RX],
			 1); /* the dropped one; forwarding counts the rest */

	/* nothing waiting: nothing handed out */
	dpio_udp_recv(&io, a);
	assert_false(dpio_udp_next(&io, &got, &len, &from));
	dpio_deinit(&io);
	close(a);
	close(b);
}

/* A failed send is counted and the batch goes on. */
static void test_send_failure_counted(void **state)
{
	struct sockaddr_storage a_addr, to;
	int a = udp_loopback(&a_addr);
	struct dp_io io;
	struct sockaddr_in *sin = (struct sockaddr_in *)&to;

	(void)state;
	io_open(&io, -1, a);
	memset(&to, 0, sizeof(to));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(9);
	sin->sin_addr.s_addr = htonl(0xffffffff); /* broadcast without SO_BROADCAST: EACCES */
	memset(dpio_send_slot(&io, AF_INET), 1, 20);
	dpio_send_commit(&io, AF_INET, 20, &to);
	memset(dpio_send_slot(&io, AF_INET), 2, 20);
	dpio_send_commit(&io, AF_INET, 20, &a_addr);
	dpio_flush(&io);
	assert_int_equal(drops[XLATE_DROP_SEND_FAILED], 1);
	assert_int_equal(counters[DP_C_UDP_TX], 1);
	dpio_deinit(&io);
	close(a);
}

/*
 * GSO trains as long as UDP_SEGMENT allows (45 datagrams of 1440 bytes: 65,000 bytes), not cut
 * where a send batch happens to fill: a batch flushed because it is full keeps its last run,
 * which may still grow, for the next flush. Nothing is lost or reordered on the way.
 */
static void test_gso_trains_full_length(void **state)
{
	enum { SIZE = 1440, TRAIN = 65000 / SIZE, COUNT = 4 * TRAIN + 7 };
	static uint8_t buf[SIZE + 100];
	struct sockaddr_storage a_addr, b_addr;
	int a = udp_loopback(&a_addr), b = udp_loopback(&b_addr), rcvbuf = 8 << 20;
	struct dp_io io;

	(void)state;
	assert_int_equal(setsockopt(b, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	memset(&io, 0, sizeof(io));
	memset(counters, 0, sizeof(counters));
	memset(drops, 0, sizeof(drops));
	io.tun_fd = -1;
	io.udp4_fd = a;
	io.udp6_fd = -1;
	offload_udp_setup(&io, true, false);
	if (!io.off.udp_gso) {
		print_message("no UDP GSO on this kernel: nothing to test\n");
		close(a);
		close(b);
		return;
	}
	assert_int_equal(dpio_init(&io, SIZE + 64, counters, drops), 0);
	for (unsigned i = 0; i < COUNT; i++) {
		uint8_t *slot = dpio_send_slot(&io, AF_INET);
		assert_non_null(slot);
		memset(slot, (int)i, SIZE);
		dpio_send_commit(&io, AF_INET, SIZE, &b_addr);
	}
	dpio_flush(&io);
	assert_int_equal(counters[DP_C_UDP_TX], COUNT);
	assert_int_equal(io.off.counters[OFF_C_GSO_DATAGRAMS], COUNT);
	/* four full trains and the rest: 5 sends (cut where every 64 filled a batch: 6) */
	assert_int_equal(io.off.counters[OFF_C_GSO_SENDS], 5);
	for (unsigned i = 0; i < COUNT; i++) {
		assert_int_equal(recv(b, buf, sizeof(buf), MSG_DONTWAIT), SIZE);
		assert_int_equal(buf[0], (uint8_t)i);
		assert_int_equal(buf[SIZE - 1], (uint8_t)i);
	}
	assert_int_equal(recv(b, buf, sizeof(buf), MSG_DONTWAIT), -1);
	dpio_deinit(&io);
	close(a);
	close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tun_batches),
		cmocka_unit_test(test_send_and_receive),
		cmocka_unit_test(test_send_failure_counted),
		cmocka_unit_test(test_gso_trains_full_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
