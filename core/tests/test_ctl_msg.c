/* Unit tests of the control-message codec: building, decoding, and every way to be malformed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl_msg.h"
#include "mapping.h"

static size_t build_sample(uint8_t *buf, size_t cap)
{
	static const uint8_t context[4] = { 192, 0, 2, 7 };
	struct ipr_ctl_builder b;
	struct ipr_ref ref = { 1, 2466 };
	size_t len;

	ipr_ctl_build(&b, buf, cap, IPR_CTL_GET_EA, 0, 0x01020304);
	ipr_ctl_put_ip(&b, IPR_CTL_A_CONTEXT, AF_INET, context);
	ipr_ctl_put_ref(&b, IPR_CTL_A_REF, &ref);
	ipr_ctl_put_text(&b, IPR_CTL_A_NAME, "b6.example.net");
	ipr_ctl_put_u8(&b, IPR_CTL_A_FAMILY, 6);
	assert_int_equal(ipr_ctl_finish(&b, &len), 0);
	return len;
}

static void test_round_trip(void **state)
{
	uint8_t buf[256];
	size_t len = build_sample(buf, sizeof(buf));
	struct ipr_ctl_header hdr;
	struct ipr_ctl_fields f;
	const uint8_t *attrs;
	size_t attrs_len;

	(void)state;
	/* header bytes exactly as documented */
	static const uint8_t head[8] = { 1, IPR_CTL_GET_EA, 0, 0, 1, 2, 3, 4 };
	assert_memory_equal(buf, head, 8);
	assert_int_equal(ipr_ctl_decode(buf, len, &hdr, &attrs, &attrs_len), 0);
	assert_int_equal(hdr.kind, IPR_CTL_GET_EA);
	assert_int_equal(hdr.id, 0x01020304);
	assert_int_equal(ipr_ctl_fields_parse(attrs, attrs_len, &f, NULL), 0);
	assert_true(ipr_ctl_has(&f, IPR_CTL_A_CONTEXT));
	assert_int_equal(f.context_family, AF_INET);
	assert_memory_equal(f.context, "\xc0\x00\x02\x07", 4);
	assert_int_equal(f.ref.hi, 1);
	assert_int_equal(f.ref.lo, 2466);
	assert_string_equal(f.name, "b6.example.net");
	assert_int_equal(f.family, 6);
	assert_false(ipr_ctl_has(&f, IPR_CTL_A_ENCODED));
}

static void test_bad_headers(void **state)
{
	uint8_t buf[256];
	size_t len = build_sample(buf, sizeof(buf));
	struct ipr_ctl_header hdr;
	const uint8_t *attrs;
	size_t attrs_len;

	(void)state;
	for (size_t cut = 0; cut < IPR_CTL_HEADER_LEN; cut++)
		assert_int_equal(ipr_ctl_decode(buf, cut, &hdr, &attrs, &attrs_len), -EBADMSG);
	/* every cut inside an attribute breaks the framing */
	for (size_t cut = IPR_CTL_HEADER_LEN + 1; cut < len; cut++) {
		int rc = ipr_ctl_decode(buf, cut, &hdr, &attrs, &attrs_len);
		bool on_boundary = cut == 8 + 8 || cut == 8 + 8 + 20 || cut == 8 + 8 + 20 + 18;
		assert_int_equal(rc, on_boundary ? 0 : -EBADMSG);
		assert_int_equal(hdr.id, 0x01020304); /* the id survives for the error reply */
	}
	buf[0] = 2;
	assert_int_equal(ipr_ctl_decode(buf, len, &hdr, &attrs, &attrs_len), -EPROTONOSUPPORT);
	assert_int_equal(hdr.version, 2);
}

static void test_bad_fields(void **state)
{
	struct ipr_ctl_fields f;
	struct ipr_err err = { 0 };
	/* each: one attribute that decodes structurally but is unusable */
	static const struct {
		const char *bytes;
		size_t len;
	} cases[] = {
		{ "\x00\x01\x00\x05"
		  "12345",
		  9 }, /* CONTEXT of 5 bytes */
		{ "\x00\x02\x00\x04"
		  "1234",
		  8 },			   /* REF of 4 bytes */
		{ "\x00\x03\x00\x00", 4 }, /* empty NAME */
		{ "\x00\x03\x00\x03"
		  "A.b",
		  7 }, /* NAME not canonical */
		{ "\x00\x03\x00\x03"
		  "a..",
		  7 }, /* NAME not a name */
		{ "\x00\x06\x00\x01"
		  "\x05",
		  5 }, /* FAMILY 5 */
		{ "\x00\x08\x00\x01"
		  "\x09",
		  5 }, /* MAP_KIND 9 */
		{ "\x00\x07\x00\x04"
		  "1234",
		  8 }, /* EXPIRES of 4 bytes */
		{ "\x00\x09\x00\x02"
		  "a\n",
		  6 }, /* SOURCE with a control character */
		{ "\x00\x10\x00\x02"
		  "12",
		  6 },						    /* TTL of 2 bytes */
		{ "\x00\x06\x00\x01\x04\x00\x06\x00\x01\x04", 10 }, /* FAMILY twice */
		{ "\x00\x16\x00\x03"
		  "123",
		  7 },			       /* CLIENT of 3 bytes */
		{ "\x00\x06\x00\x05\x04", 5 }, /* length past the end */
		{ "\x00\x06\x00", 3 },	       /* half a header */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err.reason = NULL;
		if (ipr_ctl_fields_parse((const uint8_t *)cases[i].bytes, cases[i].len, &f, &err) !=
			    -EBADMSG ||
		    !err.reason)
			fail_msg("case %zu was accepted", i);
	}
}

static void test_unknown_attributes_skipped(void **state)
{
	/* type 200 (from a newer peer), then FAMILY 4 */
	static const uint8_t attrs[] = { 0, 200, 0, 3, 'x', 'y', 'z', 0, 6, 0, 1, 4 };
	struct ipr_ctl_fields f;

	(void)state;
	assert_int_equal(ipr_ctl_fields_parse(attrs, sizeof(attrs), &f, NULL), 0);
	assert_int_equal(f.family, 4);
}

static void test_client(void **state)
{
	/* CLIENT 127.0.0.2, then CLIENT as 16 bytes (::1) in a second message */
	static const uint8_t v4[] = { 0, 22, 0, 4, 127, 0, 0, 2 };
	static const uint8_t v6[] = {
		0, 22, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
	};
	struct ipr_ctl_fields f;

	(void)state;
	assert_int_equal(ipr_ctl_fields_parse(v4, sizeof(v4), &f, NULL), 0);
	assert_true(ipr_ctl_has(&f, IPR_CTL_A_CLIENT));
	assert_int_equal(f.client_family, AF_INET);
	assert_memory_equal(f.client, "\x7f\x00\x00\x02", 4);
	assert_int_equal(ipr_ctl_fields_parse(v6, sizeof(v6), &f, NULL), 0);
	assert_int_equal(f.client_family, AF_INET6);
	assert_int_equal(f.client[15], 1);
}

static void test_nesting(void **state)
{
	uint8_t buf[512];
	struct ipr_ctl_builder b;
	struct ipr_ctl_header hdr;
	const uint8_t *attrs;
	size_t attrs_len, len, mark;
	struct ipr_mapping m = { .kind = IPR_MAP_DYNAMIC_REMOTE,
				 .family = AF_INET6,
				 .address = { 0xfd, 0xee, 0xee, 0xee, [15] = 7 },
				 .context = { .kind = IPR_CONTEXT_NAME, .name = "gw.example.net" },
				 .ref = { 0, 99 },
				 .name = "host.example.net",
				 .expires = 1000,
				 .source = "resolver" };
	struct ipr_mapping back;
	struct ipr_ctl_fields f;

	(void)state;
	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_LIST | IPR_CTL_REPLY, 0, 9);
	mark = ipr_ctl_nest_begin(&b, IPR_CTL_A_MAPPING);
	ipr_mapping_put(&b, &m);
	ipr_ctl_nest_end(&b, mark);
	assert_int_equal(ipr_ctl_finish(&b, &len), 0);
	assert_int_equal(ipr_ctl_decode(buf, len, &hdr, &attrs, &attrs_len), 0);
	assert_int_equal(ipr_ctl_fields_parse(attrs, attrs_len, &f, NULL), 0);
	assert_int_equal(f.mappings, 1);
	/* the nest holds the mapping */
	assert_int_equal(ipr_ctl_fields_parse(attrs + 4, attrs_len - 4, &f, NULL), 0);
	assert_int_equal(ipr_mapping_from_fields(&f, &back), 0);
	assert_int_equal(back.kind, m.kind);
	assert_memory_equal(back.address, m.address, 16);
	assert_true(ipr_context_equal(&back.context, &m.context));
	assert_true(ipr_ref_equal(&back.ref, &m.ref));
	assert_string_equal(back.name, m.name);
	assert_int_equal(back.expires, 1000);
	assert_string_equal(back.source, "resolver");

	/* a nest inside a nest is refused */
	uint8_t deep[] = { 1, 0x87, 0, 0, 0, 0, 0, 1, 0, 10, 0, 8, 0, 10, 0, 4, 0, 6, 0, 0 };
	assert_int_equal(ipr_ctl_decode(deep, sizeof(deep), &hdr, &attrs, &attrs_len), -EBADMSG);
}

static void test_builder_overflow(void **state)
{
	uint8_t buf[32];
	struct ipr_ctl_builder b;
	struct ipr_ref ref = { 0, 1 };
	size_t len;

	(void)state;
	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_GET_EA, 0, 1);
	ipr_ctl_put_ref(&b, IPR_CTL_A_REF, &ref); /* 8 + 20 = 28 */
	assert_int_equal(ipr_ctl_finish(&b, &len), 0);
	ipr_ctl_put_u8(&b, IPR_CTL_A_FAMILY, 4); /* 28 + 5 > 32 */
	assert_int_equal(ipr_ctl_finish(&b, &len), -EMSGSIZE);
	ipr_ctl_build(&b, buf, 4, IPR_CTL_GET_EA, 0, 1);
	assert_int_equal(ipr_ctl_finish(&b, &len), -EMSGSIZE);
}

static void test_status_text(void **state)
{
	(void)state;
	assert_string_equal(ipr_ctl_status_text(IPR_CTL_OK), "ok");
	assert_string_equal(ipr_ctl_status_text(IPR_CTL_E_EXHAUSTED),
			    "no free value left in the range");
	assert_string_equal(ipr_ctl_status_text(IPR_CTL_E_QUOTA),
			    "this client's share of new allocations is used up for now");
	assert_string_equal(ipr_ctl_status_text(200), "unknown error");
}

static void test_mapping_requires(void **state)
{
	struct ipr_ctl_fields f;
	struct ipr_mapping m;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(ipr_mapping_from_fields(&f, &m), -EINVAL);
	f.present = (1u << IPR_CTL_A_MAP_KIND) | (1u << IPR_CTL_A_REF) | (1u << IPR_CTL_A_LOCAL);
	f.map_kind = IPR_MAP_STATIC_EXTERNAL; /* remote kind with only LOCAL */
	assert_int_equal(ipr_mapping_from_fields(&f, &m), -EINVAL);
	f.map_kind = IPR_MAP_PUBLISHED; /* no context */
	assert_int_equal(ipr_mapping_from_fields(&f, &m), -EINVAL);
	f.present |= 1u << IPR_CTL_A_CONTEXT;
	f.context_family = AF_INET6;
	f.local_family = AF_INET;
	assert_int_equal(ipr_mapping_from_fields(&f, &m), 0);
	assert_int_equal(m.context.kind, IPR_CONTEXT_IPV6);
	assert_string_equal(ipr_mapping_kind_name(m.kind), "published");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_unknown_attributes_skipped),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_builder_overflow),
		cmocka_unit_test(test_status_text),
		cmocka_unit_test(test_client),
		cmocka_unit_test(test_mapping_requires),
	};
	return cmocka_run_group_tests_name("ctl_msg", tests, NULL, NULL);
}
