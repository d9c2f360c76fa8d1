/* Golden vectors of the gateway's own ICMP errors and of IPREF-layer fragmentation, and when
 * the gateway must stay silent. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "icmp_reply.h"
#include "vectors_util.h"
#include "xlate.h"

struct frag_vector {
	const char *name;
	const char *in;
	unsigned max;
	uint32_t id;
	const char *pieces; /* hex, separated by spaces */
};

struct reply_vector {
	const char *name;
	bool peer; /* a tunnel datagram answered to its sender, else a local packet */
	const char *in;
	enum icmp_reply_kind kind;
	uint32_t info;
	const char *from; /* local: the gateway's address; peer: the outer source */
	const char *out;
};

/* Built by gen_vectors.py from spec/wire.md alone. */
static const struct frag_vector frag_vectors[] = {
#include "frag_vectors.inc"
};

static const struct reply_vector reply_vectors[] = {
#include "reply_vectors.inc"
};

static void test_fragment_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(frag_vectors) / sizeof(frag_vectors[0]); i++) {
		const struct frag_vector *v = &frag_vectors[i];
		uint8_t in[VEC_BUF], out[VEC_BUF];
		size_t len = vec_unhex(v->in, in, sizeof(in));
		const char *want = v->pieces;
		struct xlate_frag f;
		int n;

		assert_int_equal(xlate_frag_begin(&f, in, len, v->max, v->id), 0);
		while ((n = xlate_frag_next(&f, out, sizeof(out))) > 0) {
			assert_true(*want != '\0');
			assert_true((unsigned)n <= v->max);
			vec_assert_bytes(v->name, out, (size_t)n, want, strcspn(want, " ") / 2);
			want += strcspn(want, " ");
			want += *want == ' ';
		}
		assert_int_equal(n, 0);
		assert_string_equal(want, ""); /* every piece came */
	}
}

static void test_fragment_limits(void **state)
{
	uint8_t in[VEC_BUF], out[VEC_BUF];
	size_t len = vec_unhex(frag_vectors[0].in, in, sizeof(in));
	struct xlate_frag f;

	/* a header with fragment info is 28 bytes here: no room for 8 bytes of data */
	assert_int_equal(xlate_frag_begin(&f, in, len, 35, 1), -XLATE_DROP_TOO_BIG);
	assert_int_equal(xlate_frag_begin(&f, in, len, 36, 1), 0);
	/* an output buffer too small for the next piece is a drop, never an overrun */
	assert_int_equal(xlate_frag_next(&f, out, 20), -XLATE_DROP_TOO_BIG);
	/* not a datagram at all */
	assert_int_equal(xlate_frag_begin(&f, in, 10, 100, 1), -XLATE_DROP_TOO_BIG);
}

static void run_reply(const struct reply_vector *v)
{
	uint8_t in[VEC_BUF], out[VEC_BUF];
	size_t len = vec_unhex(v->in, in, sizeof(in)), want = strlen(v->out) / 2;
	int n;

	if (v->peer) {
		struct dp_wire_addr outer = vec_addr(v->from), own = { 0 };
		struct xlate_remote r;
		int rc = xlate_wire_parse(in, len, &outer, &own, &r);

		assert_true(rc == 0 || rc == -XLATE_DROP_TTL);
		assert_true(icmp_reply_peer_allowed(&r));
		n = icmp_reply_to_peer(&r, in, len, v->kind, out, want - 1);
		assert_int_equal(n, -XLATE_DROP_TOO_BIG);
		n = icmp_reply_to_peer(&r, in, len, v->kind, out, sizeof(out));
	} else {
		struct xlate_local p;
		struct dp_wire_addr from = vec_addr(v->from);
		int rc = xlate_local_parse(in, len, &p);

		assert_true(rc == 0 || rc == -XLATE_DROP_PROTOCOL ||
			    rc == -XLATE_DROP_SOURCE_ROUTE);
		assert_true(icmp_reply_local_allowed(&p));
		n = icmp_reply_to_local(&p, in, len, v->kind, v->info, from.bytes, out, want - 1);
		assert_int_equal(n, -XLATE_DROP_TOO_BIG);
		n = icmp_reply_to_local(&p, in, len, v->kind, v->info, from.bytes, out,
					sizeof(out));
	}
	if (n < 0)
		fail_msg("%s: %d", v->name, n);
	vec_assert_bytes(v->name, out, (size_t)n, v->out, want);
}

static void test_reply_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(reply_vectors) / sizeof(reply_vectors[0]); i++)
		run_reply(&reply_vectors[i]);
}

/* Parses hex as a local packet that must parse, for the silence cases. */
static bool local_allowed(const char *hex)
{
	uint8_t in[VEC_BUF];
	size_t len = vec_unhex(hex, in, sizeof(in));
	struct xlate_local p;

	assert_int_equal(xlate_local_parse(in, len, &p), 0);
	return icmp_reply_local_allowed(&p);
}

static void test_silence(void **state)
{
	/* answered: an ordinary UDP datagram */
	assert_true(local_allowed("4500001c0000000040116abe01020304050607080001000200080000"));
	/* never about an ICMP error (port unreachable here), only about ICMP queries */
	assert_false(local_allowed("450000380000000040016ab201020304050607080303fcf100000000"
				   "4500001c0000000040116abe05060708010203040001000200080000"));
	/* never about a later fragment (offset 8) */
	assert_false(local_allowed("4500001c0000000140116abd01020304050607080001000200080000"));
	/* never to a multicast destination or from an unspecified source */
	assert_false(local_allowed("4500001c00000000401196ca01020304e00000010001000200080000"));
	assert_false(local_allowed("4500001c0000000040116ec400000000050607080001000200080000"));
	/* IPv6: never about ICMPv6 errors, never from :: */
	assert_false(local_allowed("6000000000083a40fd000000000000000000000000000001"
				   "fd000000000000000000000000000002010404b500000000"));
	assert_false(local_allowed("600000000008114000000000000000000000000000000000"
				   "fd0000000000000000000000000000020001000200080000"));
	/* no IPv6 message for a source route */
	{
		struct xlate_local p = { .ver = 6,
					 .src = { 0xfd, [15] = 1 },
					 .dst = { 0xfd, [15] = 2 } };
		uint8_t out[VEC_BUF], pkt[40] = { 0x60 };
		assert_int_equal(icmp_reply_to_local(&p, pkt, sizeof(pkt), ICMP_REPLY_SOURCE_ROUTE,
						     0, p.dst, out, sizeof(out)),
				 -EINVAL);
	}
}

/* A peer's ICMP errors and later fragments are never answered. */
static void test_peer_silence(void **state)
{
	uint8_t in[VEC_BUF];
	struct xlate_remote r;
	struct dp_wire_addr outer = vec_addr("198.18.0.2"), own = vec_addr("198.18.0.1");
	/* IPREF-ICMP host unreachable from the first reply vector: an error */
	size_t len = vec_unhex(reply_vectors[7].out, in, sizeof(in));

	assert_string_equal(reply_vectors[7].name, "host_unreachable_peer");
	outer = vec_addr("198.18.0.1");
	own = vec_addr("198.18.0.2");
	assert_int_equal(xlate_wire_parse(in, len, &outer, &own, &r), 0);
	assert_false(icmp_reply_peer_allowed(&r));
	len = vec_unhex(frag_vectors[1].pieces + strcspn(frag_vectors[1].pieces, " ") + 1, in,
			sizeof(in));
	outer = vec_addr("2001:db8::1");
	own = vec_addr("2001:db8::2");
	assert_int_equal(xlate_wire_parse(in, len, &outer, &own, &r), 0);
	assert_false(icmp_reply_peer_allowed(&r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fragment_vectors), cmocka_unit_test(test_fragment_limits),
		cmocka_unit_test(test_reply_vectors),	 cmocka_unit_test(test_silence),
		cmocka_unit_test(test_peer_silence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
