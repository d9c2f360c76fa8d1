/* Forwarding against a fake I/O sink: TUN to wire and back, waiting for mappings, drops. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_sink.h"
#include "forward.h"

#define A_PUBLIC "192.0.2.1"
#define B_PUBLIC "198.51.100.2"
#define A_HOST	 "10.0.0.5"  /* a host behind A */
#define A_SEES_B "10.64.0.7" /* how A's hosts address B's host */
#define B_HOST	 "10.1.0.9"
#define B_SEES_A "10.65.0.3"

static const struct ipr_ref REF_A = { 0, 0x1111 }, REF_B = { 0, 0x2222 };

struct gw {
	struct dp dp;
	struct fake_sink sink;
};

static void ip4(const char *text, uint8_t out[16])
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(AF_INET, text, out), 1);
}

static void add_local(struct dp *dp, const char *host, const struct ipr_ref *ref)
{
	struct ipr_mapping m = { .kind = IPR_MAP_PUBLISHED, .family = AF_INET, .ref = *ref };

	ip4(host, m.address);
	m.context.kind = IPR_CONTEXT_IPV4;
	memcpy(m.context.ipv4, dp->own4.bytes, 4);
	assert_int_equal(maptab_add(dp->tab, &m), 0);
}

static void add_remote(struct dp *dp, const char *encoded, const char *gateway,
		       const struct ipr_ref *ref)
{
	struct ipr_mapping m = { .kind = IPR_MAP_DYNAMIC_REMOTE, .family = AF_INET, .ref = *ref };

	ip4(encoded, m.address);
	m.context.kind = IPR_CONTEXT_IPV4;
	assert_int_equal(inet_pton(AF_INET, gateway, m.context.ipv4), 1);
	assert_int_equal(maptab_add(dp->tab, &m), 0);
}

static struct gw *gw_new(const char *public)
{
	struct gw *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	dpconf_defaults(&g->dp.cfg);
	g->dp.own4.ver = 4;
	assert_int_equal(inet_pton(AF_INET, public, g->dp.own4.bytes), 1);
	g->dp.slot_size = g->dp.cfg.mtu + 128;
	assert_int_equal(maptab_new(64, &g->dp.tab), 0);
	fake_sink_attach(&g->dp, &g->sink);
	assert_int_equal(forward_init(&g->dp), 0);
	return g;
}

static void gw_free(struct gw *g)
{
	forward_deinit(&g->dp);
	maptab_free(g->dp.tab);
	free(g);
}

/* The pair: A's host and B's host know each other through both gateways' tables. */
static void pair(struct gw **a, struct gw **b)
{
	*a = gw_new(A_PUBLIC);
	*b = gw_new(B_PUBLIC);
	add_local(&(*a)->dp, A_HOST, &REF_A);
	add_remote(&(*a)->dp, A_SEES_B, B_PUBLIC, &REF_B);
	add_local(&(*b)->dp, B_HOST, &REF_B);
	add_remote(&(*b)->dp, B_SEES_A, A_PUBLIC, &REF_A);
}

static uint16_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* An IPv4 UDP packet with right checksums; returns its length. */
static size_t udp4(uint8_t *p, const char *src, const char *dst, const char *payload)
{
	size_t plen = strlen(payload), len = 28 + plen;
	uint8_t pseudo[12];
	uint32_t acc = 0;
	uint16_t c;

	memset(p, 0, len);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 17;
	assert_int_equal(inet_pton(AF_INET, src, p + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, p + 16), 1);
	c = sum16(p, 20, 0);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	p[20] = 0x30, p[21] = 0x39; /* 12345 */
	p[22] = 0x00, p[23] = 0x35; /* 53 */
	p[24] = (uint8_t)((8 + plen) >> 8);
	p[25] = (uint8_t)(8 + plen);
	memcpy(p + 28, payload, plen);
	memcpy(pseudo, p + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 17;
	pseudo[10] = p[24];
	pseudo[11] = p[25];
	for (size_t i = 0; i < 12; i += 2)
		acc += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
	c = sum16(p + 20, 8 + plen, acc);
	if (c == 0)
		c = 0xffff;
	p[26] = (uint8_t)(c >> 8);
	p[27] = (uint8_t)c;
	return len;
}

static void from_gateway(struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
}

static void assert_addr(const uint8_t *p, const char *want)
{
	uint8_t a[16];

	ip4(want, a);
	assert_memory_equal(p, a, 4);
}

/* A's datagram goes to B's gateway; B writes its host's packet with A's host encoded. */
static void hop(struct gw *from, const char *from_public, struct gw *to)
{
	const struct fake_pkt *d = &from->sink.sent[from->sink.sent_n - 1];
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&d->to;
	struct sockaddr_storage src;

	assert_int_equal(d->family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), from->dp.cfg.peer_port);
	assert_memory_equal(&sin->sin_addr, to->dp.own4.bytes, 4);
	from_gateway(&src, from_public, from->dp.cfg.port);
	forward_remote(&to->dp, d->buf, d->len, &src);
}

static void test_round_trip(void **state)
{
	struct gw *a, *b;
	uint8_t pkt[256];
	size_t len;

	(void)state;
	pair(&a, &b);
	len = udp4(pkt, A_HOST, A_SEES_B, "question");
	forward_local(&a->dp, pkt, len);
	assert_int_equal(a->sink.sent_n, 1);
	assert_int_equal(a->dp.counters[DP_C_TUN_RX], 1);
	hop(a, A_PUBLIC, b);
	assert_int_equal(b->sink.tun_n, 1);
	assert_int_equal(b->dp.counters[DP_C_UDP_RX], 1);
	assert_int_equal(b->dp.counters[DP_C_TUN_TX], 1);
	assert_int_equal(b->sink.tun[0].len, len);
	assert_addr(b->sink.tun[0].buf + 12, B_SEES_A);
	assert_addr(b->sink.tun[0].buf + 16, B_HOST);
	assert_memory_equal(b->sink.tun[0].buf + 28, "question", 8);
	assert_int_equal(sum16(b->sink.tun[0].buf, 20, 0), 0); /* a valid IPv4 header */

	/* and the answer back the same way */
	len = udp4(pkt, B_HOST, B_SEES_A, "answer");
	forward_local(&b->dp, pkt, len);
	assert_int_equal(b->sink.sent_n, 1);
	hop(b, B_PUBLIC, a);
	assert_int_equal(a->sink.tun_n, 1);
	assert_addr(a->sink.tun[0].buf + 12, A_SEES_B);
	assert_addr(a->sink.tun[0].buf + 16, A_HOST);
	assert_memory_equal(a->sink.tun[0].buf + 28, "answer", 6);
	for (int r = 1; r < XLATE_DROP_COUNT; r++) {
		assert_int_equal(a->dp.drops[r], 0);
		assert_int_equal(b->dp.drops[r], 0);
	}
	/* the peer's port as it came is where replies go */
	assert_int_equal(a->dp.counters[DP_C_PORT_LEARNED], 1);
	gw_free(a);
	gw_free(b);
}

static void test_waits_for_local_reference(void **state)
{
	struct gw *a = gw_new(A_PUBLIC);
	uint8_t pkt[256];
	size_t len = udp4(pkt, A_HOST, A_SEES_B, "early");

	(void)state;
	add_remote(&a->dp, A_SEES_B, B_PUBLIC, &REF_B);
	forward_local(&a->dp, pkt, len);
	assert_int_equal(a->sink.sent_n, 0);
	assert_int_equal(a->sink.want_ref_n, 1);
	assert_int_equal(forward_waiting(&a->dp), 1);
	assert_int_equal(a->dp.counters[DP_C_WAIT_QUEUED], 1);

	/* not yet: it stays */
	forward_retry_waiting(&a->dp, ipr_clock_ms());
	assert_int_equal(forward_waiting(&a->dp), 1);
	assert_int_equal(a->sink.sent_n, 0);

	/* gwctld's answer arrives: the packet goes on */
	add_local(&a->dp, A_HOST, &REF_A);
	forward_retry_waiting(&a->dp, ipr_clock_ms());
	assert_int_equal(forward_waiting(&a->dp), 0);
	assert_int_equal(a->sink.sent_n, 1);
	assert_int_equal(a->dp.counters[DP_C_WAIT_SENT], 1);
	gw_free(a);
}

static void test_wait_times_out(void **state)
{
	struct gw *a = gw_new(A_PUBLIC), *b = gw_new(B_PUBLIC);
	uint8_t pkt[256];
	size_t len = udp4(pkt, A_HOST, A_SEES_B, "lost");

	(void)state;
	/* a peer's datagram for a remote host B has no encoded address for yet */
	add_local(&a->dp, A_HOST, &REF_A);
	add_remote(&a->dp, A_SEES_B, B_PUBLIC, &REF_B);
	add_local(&b->dp, B_HOST, &REF_B);
	forward_local(&a->dp, pkt, len);
	hop(a, A_PUBLIC, b);
	assert_int_equal(b->sink.want_ea_n, 1);
	assert_int_equal(forward_waiting(&b->dp), 1);
	forward_retry_waiting(&b->dp, ipr_clock_ms() + 60000);
	assert_int_equal(forward_waiting(&b->dp), 0);
	assert_int_equal(b->dp.drops[XLATE_DROP_WAIT_TIMEOUT], 1);
	assert_int_equal(b->sink.tun_n, 0);
	gw_free(a);
	gw_free(b);
}

static void test_full_wait_slots_drop(void **state)
{
	struct gw *a = gw_new(A_PUBLIC);
	uint8_t pkt[256];
	size_t len = udp4(pkt, A_HOST, A_SEES_B, "many");

	(void)state;
	add_remote(&a->dp, A_SEES_B, B_PUBLIC, &REF_B);
	for (unsigned i = 0; i < a->dp.wait_n + 3; i++)
		forward_local(&a->dp, pkt, len);
	assert_int_equal(forward_waiting(&a->dp), a->dp.wait_n);
	assert_int_equal(a->dp.drops[XLATE_DROP_NO_SRC_REF], 3);
	gw_free(a);
}

static void test_drops_counted(void **state)
{
	struct gw *a, *b;
	uint8_t pkt[256], junk[40] = { 0x45 };
	struct sockaddr_storage src;
	size_t len;

	(void)state;
	pair(&a, &b);
	/* to an encoded address nobody mapped */
	len = udp4(pkt, A_HOST, "10.64.0.99", "nobody");
	forward_local(&a->dp, pkt, len);
	assert_int_equal(a->dp.drops[XLATE_DROP_NO_DST_MAPPING], 1);
	/* no socket of the peer's family */
	a->sink.no_ipv4 = true;
	len = udp4(pkt, A_HOST, A_SEES_B, "nosocket");
	forward_local(&a->dp, pkt, len);
	assert_int_equal(a->dp.drops[XLATE_DROP_NO_CONTEXT], 1);
	a->sink.no_ipv4 = false;
	/* a broken IPv4 header */
	forward_local(&a->dp, junk, sizeof(junk));
	assert_int_equal(a->dp.drops[XLATE_DROP_IP_HEADER], 1);
	/* a datagram for a reference that is none of ours */
	forward_local(&a->dp, pkt, len);
	assert_int_equal(a->sink.sent_n, 1);
	maptab_clear(b->dp.tab);
	hop(a, A_PUBLIC, b);
	assert_int_equal(b->dp.drops[XLATE_DROP_NOT_OURS], 1);
	/* the TUN write fails */
	add_local(&b->dp, B_HOST, &REF_B);
	add_remote(&b->dp, B_SEES_A, A_PUBLIC, &REF_A);
	b->sink.tun_fails = true;
	hop(a, A_PUBLIC, b);
	assert_int_equal(b->dp.drops[XLATE_DROP_SEND_FAILED], 1);
	/* garbage from a peer */
	from_gateway(&src, A_PUBLIC, 1234);
	forward_remote(&b->dp, junk, sizeof(junk), &src);
	assert_int_equal(b->dp.counters[DP_C_UDP_RX], 3);
	assert_int_equal(b->sink.tun_n, 0);
	gw_free(a);
	gw_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_waits_for_local_reference),
		cmocka_unit_test(test_wait_times_out),
		cmocka_unit_test(test_full_wait_slots_drop),
		cmocka_unit_test(test_drops_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
