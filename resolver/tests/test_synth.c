/* Unit tests of the ipref module's synthesis logic: TXT in, plans, TTLs, answers, reverse names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "synth.h"

/* Room for the test RRsets: each item one TXT RDATA of one character-string. */
#define ITEMS_MAX 16

struct rrset {
	uint8_t bytes[ITEMS_MAX][256];
	struct synth_rdata items[ITEMS_MAX];
	size_t n;
};

static void add_txt(struct rrset *set, const char *text)
{
	size_t len = strlen(text);

	assert_true(set->n < ITEMS_MAX && len < 256);
	set->bytes[set->n][0] = (uint8_t)len;
	memcpy(set->bytes[set->n] + 1, text, len);
	set->items[set->n] = (struct synth_rdata){ set->bytes[set->n], len + 1 };
	set->n++;
}

static void add_raw(struct rrset *set, const void *rdata, size_t len)
{
	assert_true(set->n < ITEMS_MAX && len <= 256);
	memcpy(set->bytes[set->n], rdata, len);
	set->items[set->n] = (struct synth_rdata){ set->bytes[set->n], len };
	set->n++;
}

static void expect_record(const struct ipr_addr *addr, const char *canonical)
{
	char text[IPR_ADDR_TEXT_MAX];

	ipr_addr_format(addr, IPR_REF_DECIMAL, text);
	assert_string_equal(text, canonical);
}

/* Dotted text to wire form without any checking, so that tests can build bad names. */
static size_t wire(const char *text, uint8_t *out)
{
	size_t pos = 0, start = 0, len = strlen(text);

	if (strcmp(text, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '.')
			continue;
		out[pos++] = (uint8_t)(i - start);
		memcpy(out + pos, text + start, i - start);
		pos += i - start;
		start = i + 1;
	}
	out[pos++] = 0;
	return pos;
}

static int reverse_text(const char *text, struct synth_ip *ip)
{
	uint8_t name[512];

	return synth_reverse_parse(name, wire(text, name), ip);
}

static struct synth_ip ip_of(const char *text)
{
	struct synth_ip ip = { 0 };

	if (strchr(text, ':')) {
		ip.family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, ip.addr), 1);
	} else {
		ip.family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, ip.addr), 1);
	}
	return ip;
}

static void test_txt_joined(void **state)
{
	static const uint8_t rdata[] = "\x09"
				       "AA gw.exa"
				       "\x10"
				       "mple.com + 25b7-"
				       "\x00"
				       "\x04"
				       "2345";
	struct rrset set = { 0 };
	struct synth_txt txt;

	(void)state;
	add_raw(&set, rdata, sizeof(rdata) - 1);
	assert_int_equal(synth_txt_parse(set.items, set.n, 3600, &txt), 0);
	assert_int_equal(txt.count, 1);
	assert_int_equal(txt.ttl, 3600);
	expect_record(&txt.records[0], "gw.example.com + 632759109");
}

static void test_txt_several(void **state)
{
	struct rrset set = { 0 };
	struct synth_txt txt;

	(void)state;
	add_txt(&set, "AA 192.0.2.1 + 12345");
	add_txt(&set, "AA 2001:db8::abc:11 + 700");
	add_txt(&set, "AA gw.example.com + 6-789a");
	assert_int_equal(synth_txt_parse(set.items, set.n, 60, &txt), 0);
	assert_int_equal(txt.count, 3);
	expect_record(&txt.records[0], "192.0.2.1 + 12345");
	expect_record(&txt.records[1], "2001:db8::abc:11 + 700");
	expect_record(&txt.records[2], "gw.example.com + 424090");
	assert_int_equal(txt.malformed + txt.not_aa + txt.broken + txt.duplicates, 0);
}

static void test_txt_mixed(void **state)
{
	struct rrset set = { 0 };
	struct synth_txt txt;

	(void)state;
	add_txt(&set, "v=spf1 -all");
	add_txt(&set, "AA 198.51.100.1 + 0,85");
	add_txt(&set, "aa 192.0.2.1 + 5");
	add_txt(&set, "google-site-verification=abc");
	add_raw(&set, "\x00", 1);
	assert_int_equal(synth_txt_parse(set.items, set.n, 300, &txt), 0);
	assert_int_equal(txt.count, 1);
	expect_record(&txt.records[0], "198.51.100.1 + 85");
	assert_int_equal(txt.not_aa, 4);
	assert_int_equal(txt.malformed, 0);

	/* without any AA record: not ours, the native answer stands */
	set.n = 0;
	add_txt(&set, "v=spf1 -all");
	assert_int_equal(synth_txt_parse(set.items, set.n, 300, &txt), -ENOENT);
	assert_int_equal(txt.count, 0);
	assert_int_equal(txt.not_aa, 1);
	assert_int_equal(synth_txt_parse(NULL, 0, 300, &txt), -ENOENT);
	assert_int_equal(synth_txt_parse(NULL, 1, 300, &txt), -EINVAL);
}

static void test_txt_malformed(void **state)
{
	struct rrset set = { 0 };
	struct synth_txt txt;

	(void)state;
	add_txt(&set, "AA 192.0.2 + 5");
	add_txt(&set, "AA 192.0.2.1 + 0");
	add_txt(&set, "AA");
	add_txt(&set, "AA 192.0.2.1 + ab");
	add_txt(&set, "AA 192.0.2.1 + 999999999999999999999999999999999999999");
	add_raw(&set,
		"\x10"
		"AA 192.0.2.1",
		13);
	add_raw(&set, "", 0);
	assert_int_equal(synth_txt_parse(set.items, set.n, 300, &txt), -ENOENT);
	assert_int_equal(txt.count, 0);
	assert_int_equal(txt.malformed, 5);
	assert_int_equal(txt.broken, 2);

	add_txt(&set, "AA 192.0.2.1 + 5");
	assert_int_equal(synth_txt_parse(set.items, set.n, 300, &txt), 0);
	assert_int_equal(txt.count, 1);
	assert_int_equal(txt.malformed, 5);
	expect_record(&txt.records[0], "192.0.2.1 + 5");
}

static void test_txt_limit_and_duplicates(void **state)
{
	struct rrset set = { 0 };
	struct synth_txt txt;
	char text[64];

	(void)state;
	add_txt(&set, "AA 192.0.2.1 + 171");
	add_txt(&set, "AA 192.0.2.1 + 0-ab"); /* the same address in another notation */
	add_txt(&set, "AA GW.Example.com. + 5");
	add_txt(&set, "AA gw.example.com + 5");
	for (int i = 1; i <= 9; i++) {
		snprintf(text, sizeof(text), "AA 203.0.113.%d + %d", i, i);
		add_txt(&set, text);
	}
	assert_int_equal(synth_txt_parse(set.items, set.n, 300, &txt), 0);
	assert_int_equal(txt.count, SYNTH_AA_MAX);
	assert_int_equal(txt.duplicates, 2);
	assert_int_equal(txt.over_limit, 3);
	expect_record(&txt.records[0], "192.0.2.1 + 171");
	expect_record(&txt.records[1], "gw.example.com + 5");
	expect_record(&txt.records[7], "203.0.113.6 + 6");
}

static void expect_ip(const struct synth_ip *ip, const char *text);

/* Contexts no remote gateway can have are counted and left out; ::ffff:a.b.c.d is a.b.c.d. */
static void test_txt_bad_contexts(void **state)
{
	static const char *const bad[] = {
		"AA 0.0.0.0 + 5",	  "AA :: + 5",
		"AA 127.0.0.1 + 5",	  "AA ::1 + 5",
		"AA 224.0.0.1 + 5",	  "AA ff02::1 + 5",
		"AA 169.254.0.1 + 5",	  "AA fe80::1 + 5",
		"AA 255.255.255.255 + 5", "AA ::ffff:127.0.0.1 + 5",
	};
	struct rrset set = { 0 };
	struct synth_txt txt;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		add_txt(&set, bad[i]);
	assert_int_equal(synth_txt_parse(set.items, set.n, 300, &txt), -ENOENT);
	assert_int_equal(txt.bad_context, sizeof(bad) / sizeof(bad[0]));
	assert_int_equal(txt.malformed, 0);

	add_txt(&set, "AA ::ffff:192.0.2.1 + 5");
	add_txt(&set, "AA 192.0.2.1 + 5");
	assert_int_equal(synth_txt_parse(set.items, set.n, 300, &txt), 0);
	assert_int_equal(txt.count, 1);
	assert_int_equal(txt.duplicates, 1);
	expect_record(&txt.records[0], "192.0.2.1 + 5");
}

/* Bad contexts take no place among the SYNTH_AA_MAX records kept. */
static void test_txt_bad_contexts_take_no_slot(void **state)
{
	struct rrset set = { 0 };
	struct synth_txt txt;
	char text[64];

	(void)state;
	for (int i = 1; i <= SYNTH_AA_MAX; i++) {
		snprintf(text, sizeof(text), "AA 127.0.0.%d + %d", i, i);
		add_txt(&set, text);
	}
	add_txt(&set, "AA 192.0.2.1 + 9");
	assert_int_equal(synth_txt_parse(set.items, set.n, 300, &txt), 0);
	assert_int_equal(txt.count, 1);
	assert_int_equal(txt.over_limit, 0);
	expect_record(&txt.records[0], "192.0.2.1 + 9");
}

static struct ipr_site test_site(void)
{
	struct ipr_site site = { .range_count = 2, .own_count = 2 };

	site.ranges[0] = (struct ipr_prefix){ .family = AF_INET, .addr = { 10, 240 }, .len = 12 };
	site.ranges[1] = (struct ipr_prefix){ .family = AF_INET6, .len = 64 };
	assert_int_equal(inet_pton(AF_INET6, "fdee:eeee::", site.ranges[1].addr), 1);
	site.own[0] = (struct ipr_context){ .kind = IPR_CONTEXT_IPV4, .ipv4 = { 198, 51, 100, 1 } };
	site.own[1].kind = IPR_CONTEXT_IPV6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::fe", site.own[1].ipv6), 1);
	return site;
}

/* Our own addresses and encoded ranges are known only from gwctld: a second step. */
static void test_txt_check_site(void **state)
{
	const struct ipr_site site = test_site();
	struct rrset set = { 0 };
	struct synth_txt txt;

	(void)state;
	add_txt(&set, "AA 198.51.100.1 + 5");
	add_txt(&set, "AA 203.0.113.1 + 5");
	add_txt(&set, "AA 10.240.0.9 + 5");
	add_txt(&set, "AA 2001:db8::fe + 5");
	add_txt(&set, "AA gw.example + 5");
	add_txt(&set, "AA fdee:eeee::3 + 5");
	add_txt(&set, "AA 203.0.113.2 + 5");
	assert_int_equal(synth_txt_parse(set.items, set.n, 300, &txt), 0);
	assert_int_equal(txt.count, 7);
	assert_int_equal(synth_txt_check_site(&txt, &site), 4);
	assert_int_equal(txt.count, 3);
	assert_int_equal(txt.bad_context, 4);
	expect_record(&txt.records[0], "203.0.113.1 + 5");
	expect_record(&txt.records[1], "gw.example + 5");
	expect_record(&txt.records[2], "203.0.113.2 + 5");
	assert_int_equal(synth_txt_check_site(&txt, &site), 0);
}

/* A context name's address: the same rule, and an IPv4-mapped AAAA becomes IPv4. */
static void test_ip_check(void **state)
{
	const struct ipr_site site = test_site();
	struct synth_ip ip = ip_of("::ffff:192.0.2.7");

	(void)state;
	assert_int_equal(synth_ip_check(&ip, &site), IPR_ADDR_USABLE);
	expect_ip(&ip, "192.0.2.7");
	ip = ip_of("10.240.0.9");
	assert_int_equal(synth_ip_check(&ip, &site), IPR_ADDR_ENCODED);
	ip = ip_of("::ffff:198.51.100.1");
	assert_int_equal(synth_ip_check(&ip, &site), IPR_ADDR_OWN);
	ip = ip_of("127.0.0.1");
	assert_int_equal(synth_ip_check(&ip, NULL), IPR_ADDR_LOOPBACK);
	ip = ip_of("2001:db8::5");
	assert_int_equal(synth_ip_check(&ip, &site), IPR_ADDR_USABLE);
	expect_ip(&ip, "2001:db8::5");
}

static void test_plan(void **state)
{
	struct rrset set = { 0 };
	struct synth_txt txt;
	struct synth_plan plan;
	const unsigned both = SYNTH_FAMILY_V4 | SYNTH_FAMILY_V6;

	(void)state;
	add_txt(&set, "AA 192.0.2.1 + 5");
	add_txt(&set, "AA 2001:db8::1 + 5");
	add_txt(&set, "AA gw.example.com + 5");
	assert_int_equal(synth_txt_parse(set.items, set.n, 300, &txt), 0);

	assert_int_equal(synth_plan_record(&txt.records[0], both, &plan), 0);
	assert_int_equal(plan.kind, SYNTH_ADDRESS_V4);
	assert_null(plan.name);
	assert_int_equal(synth_plan_record(&txt.records[0], SYNTH_FAMILY_V6, &plan), -ENETUNREACH);

	assert_int_equal(synth_plan_record(&txt.records[1], SYNTH_FAMILY_V6, &plan), 0);
	assert_int_equal(plan.kind, SYNTH_ADDRESS_V6);
	assert_int_equal(synth_plan_record(&txt.records[1], SYNTH_FAMILY_V4, &plan), -ENETUNREACH);

	assert_int_equal(synth_plan_record(&txt.records[2], both, &plan), 0);
	assert_int_equal(plan.kind, SYNTH_NEEDS_NAME);
	assert_int_equal(plan.lookups, both);
	assert_string_equal(plan.name, "gw.example.com");
	assert_int_equal(synth_plan_record(&txt.records[2], SYNTH_FAMILY_V4, &plan), 0);
	assert_int_equal(plan.lookups, SYNTH_FAMILY_V4);
	assert_int_equal(synth_plan_record(&txt.records[2], 0, &plan), -ENETUNREACH);
	assert_int_equal(synth_plan_record(&txt.records[2], 4, &plan), -EINVAL);
}

static void test_ttl(void **state)
{
	uint32_t name_ttl = 120;
	uint32_t zero = 0, huge = 0x80000000u;

	(void)state;
	assert_int_equal(synth_answer_ttl(300, NULL, 3600), 300);
	assert_int_equal(synth_answer_ttl(300, &name_ttl, 3600), 120);
	assert_int_equal(synth_answer_ttl(300, &name_ttl, 30), 30);
	assert_int_equal(synth_answer_ttl(0, &name_ttl, 30), 0);
	assert_int_equal(synth_answer_ttl(300, &zero, 30), 0);
	/* a mapping without a lease does not limit the answer */
	assert_int_equal(synth_answer_ttl(86400, NULL, UINT32_MAX), 86400);
	assert_int_equal(synth_answer_ttl(0x7fffffffu, NULL, UINT32_MAX), 0x7fffffffu);
	/* DNS TTLs with the top bit set count as zero, never as huge */
	assert_int_equal(synth_answer_ttl(UINT32_MAX, NULL, UINT32_MAX), 0);
	assert_int_equal(synth_answer_ttl(300, &huge, 3600), 0);
	/* folded across records */
	uint32_t ttl = synth_answer_ttl(300, &name_ttl, 3600);
	name_ttl = 200;
	assert_int_equal(synth_answer_ttl(ttl, &name_ttl, 60), 60);
}

static void test_answer_a(void **state)
{
	struct synth_ip ips[] = { ip_of("10.64.0.1"), ip_of("10.64.0.2") };
	static const uint8_t expect[] = { 0, 4, 10, 64, 0, 1, 0, 4, 10, 64, 0, 2 };
	uint8_t buf[SYNTH_ANSWER_MAX];
	struct synth_answer ans;

	(void)state;
	assert_int_equal(synth_answer_build(1, ips, 2, buf, sizeof(buf), &ans), 0);
	assert_int_equal(ans.count, 2);
	assert_int_equal(ans.total, sizeof(expect));
	assert_memory_equal(buf, expect, sizeof(expect));
	assert_ptr_equal(ans.data[0], buf);
	assert_ptr_equal(ans.data[1], buf + 6);
	assert_int_equal(ans.len[0], 6);
	assert_int_equal(ans.len[1], 6);

	/* no encoded address: NOERROR without data */
	assert_int_equal(synth_answer_build(1, NULL, 0, NULL, 0, &ans), 0);
	assert_int_equal(ans.count, 0);
	assert_int_equal(ans.total, 0);
}

static void test_answer_aaaa(void **state)
{
	struct synth_ip ip = ip_of("fd00:1::abcd");
	uint8_t buf[SYNTH_ANSWER_MAX];
	struct synth_answer ans;

	(void)state;
	assert_int_equal(synth_answer_build(28, &ip, 1, buf, sizeof(buf), &ans), 0);
	assert_int_equal(ans.count, 1);
	assert_int_equal(ans.len[0], 18);
	assert_int_equal(ans.total, 18);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[1], 16);
	assert_memory_equal(buf + 2, ip.addr, 16);
}

static void test_answer_mismatch(void **state)
{
	struct synth_ip mixed[] = { ip_of("fd00:1::1"), ip_of("10.64.0.1") };
	struct synth_ip many[SYNTH_AA_MAX + 1];
	uint8_t buf[SYNTH_ANSWER_MAX], untouched[SYNTH_ANSWER_MAX];
	struct synth_answer ans;

	(void)state;
	memset(buf, 0xa5, sizeof(buf));
	memcpy(untouched, buf, sizeof(buf));
	/* never an A record for an AAAA question, nor the reverse */
	assert_int_equal(synth_answer_build(28, mixed, 2, buf, sizeof(buf), &ans), -EAFNOSUPPORT);
	assert_int_equal(synth_answer_build(28, mixed + 1, 1, buf, sizeof(buf), &ans),
			 -EAFNOSUPPORT);
	assert_int_equal(synth_answer_build(1, mixed, 1, buf, sizeof(buf), &ans), -EAFNOSUPPORT);
	assert_memory_equal(buf, untouched, sizeof(buf));

	assert_int_equal(synth_answer_build(16, mixed + 1, 1, buf, sizeof(buf), &ans), -EINVAL);
	for (size_t i = 0; i < SYNTH_AA_MAX + 1; i++)
		many[i] = mixed[1];
	assert_int_equal(synth_answer_build(1, many, SYNTH_AA_MAX, buf, sizeof(buf), &ans), 0);
	assert_int_equal(synth_answer_build(1, many, SYNTH_AA_MAX + 1, buf, sizeof(buf), &ans),
			 -E2BIG);
}

static void test_answer_duplicates(void **state)
{
	struct synth_ip ips[] = { ip_of("10.64.0.1"), ip_of("10.64.0.2"), ip_of("10.64.0.1"),
				  ip_of("10.64.0.2"), ip_of("10.64.0.3") };
	uint8_t buf[SYNTH_ANSWER_MAX];
	struct synth_answer ans;

	(void)state;
	assert_int_equal(synth_answer_build(1, ips, 5, buf, sizeof(buf), &ans), 0);
	assert_int_equal(ans.count, 3);
	assert_int_equal(ans.total, 18);
	assert_int_equal(ans.data[2][5], 3);
}

static void test_answer_short_buffer(void **state)
{
	struct synth_ip ips[] = { ip_of("10.64.0.1"), ip_of("10.64.0.2"), ip_of("10.64.0.1") };
	struct synth_ip v6 = ip_of("fd00::1");
	uint8_t buf[SYNTH_ANSWER_MAX];
	struct synth_answer ans;

	(void)state;
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(synth_answer_build(1, ips, 3, buf, 11, &ans), -ENOSPC);
	assert_int_equal(buf[0], 0xa5);
	/* duplicates take no room */
	assert_int_equal(synth_answer_build(1, ips, 3, buf, 12, &ans), 0);
	assert_int_equal(ans.count, 2);
	assert_int_equal(synth_answer_build(28, &v6, 1, buf, 17, &ans), -ENOSPC);
	assert_int_equal(synth_answer_build(28, &v6, 1, NULL, 0, &ans), -ENOSPC);
}

static void expect_ip(const struct synth_ip *ip, const char *text)
{
	struct synth_ip want = ip_of(text);

	assert_int_equal(ip->family, want.family);
	assert_memory_equal(ip->addr, want.addr, 16);
}

static void test_reverse_v4(void **state)
{
	struct synth_ip ip;

	(void)state;
	assert_int_equal(reverse_text("1.2.0.192.in-addr.arpa", &ip), 0);
	expect_ip(&ip, "192.0.2.1");
	assert_int_equal(reverse_text("255.0.10.0.IN-ADDR.Arpa", &ip), 0);
	expect_ip(&ip, "0.10.0.255");
}

static void test_reverse_v6(void **state)
{
	struct synth_ip ip;

	(void)state;
	assert_int_equal(
		reverse_text(
			"1.1.0.0.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
			&ip),
		0);
	expect_ip(&ip, "2001:db8::abc:11");
	assert_int_equal(
		reverse_text(
			"F.e.D.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.F.IP6.ARPA",
			&ip),
		0);
	expect_ip(&ip, "fd00::cdef");
}

static void test_reverse_not_an_address(void **state)
{
	static const char *const names[] = {
		/* shorter names inside the zones */
		"2.0.192.in-addr.arpa",
		"in-addr.arpa",
		"8.b.d.0.1.0.0.2.ip6.arpa",
		"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
		"ip6.arpa",
		/* outside both zones */
		"arpa",
		".",
		"1.2.0.192.example.com",
		"1.2.0.192.in-addr.arpa.example",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.int",
		"1.2.0.192.in-addr.arp",
		"1.2.0.192.inaddr.arpa",
	};
	struct synth_ip ip = { .family = 99 };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(reverse_text(names[i], &ip), -ENOENT);
		assert_int_equal(ip.family, 99);
	}
}

static void test_reverse_bad_labels(void **state)
{
	static const char *const names[] = {
		"01.2.0.192.in-addr.arpa",
		"1.00.0.192.in-addr.arpa",
		"1.2.0.256.in-addr.arpa",
		"1.2.0.1920.in-addr.arpa",
		"1a.2.0.192.in-addr.arpa",
		"-1.2.0.192.in-addr.arpa",
		"x.2.0.192.in-addr.arpa",
		"x.0.192.in-addr.arpa", /* shorter, but no address's name */
		"5.1.2.0.192.in-addr.arpa",
		"10.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
		"g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
		"0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
	};
	struct synth_ip ip;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(reverse_text(names[i], &ip), -EINVAL);
}

static void test_reverse_broken_wire(void **state)
{
	uint8_t name[300];
	size_t len = wire("1.2.0.192.in-addr.arpa", name);
	struct synth_ip ip;

	(void)state;
	assert_int_equal(synth_reverse_parse(name, len - 1, &ip), -EBADMSG); /* no root */
	assert_int_equal(synth_reverse_parse(name, 3, &ip), -EBADMSG); /* label past the end */
	name[len] = 0;
	assert_int_equal(synth_reverse_parse(name, len + 1, &ip), -EBADMSG); /* trailing byte */
	assert_int_equal(synth_reverse_parse(name, 0, &ip), -EBADMSG);
	assert_int_equal(synth_reverse_parse((const uint8_t *)"\xc0\x0c", 2, &ip), -EBADMSG);
	assert_int_equal(synth_reverse_parse((const uint8_t *)"\x01"
							      "1\x40",
					     3, &ip),
			 -EBADMSG);
	/* longer than any DNS name */
	memset(name, 0, sizeof(name));
	for (size_t i = 0; i + 2 < 256; i += 2) {
		name[i] = 1;
		name[i + 1] = '1';
	}
	assert_int_equal(synth_reverse_parse(name, 257, &ip), -EBADMSG);
}

static void test_reverse_build(void **state)
{
	static const uint8_t v4_name[] = "\x01"
					 "1\x01"
					 "2\x01"
					 "0\x03"
					 "192\x07"
					 "in-addr\x04"
					 "arpa";
	struct synth_ip ip = ip_of("192.0.2.1"), back, bad = { .family = AF_UNIX };
	uint8_t name[SYNTH_REVERSE_NAME_MAX];
	size_t len;

	(void)state;
	assert_int_equal(synth_reverse_build(&ip, name, sizeof(name), &len), 0);
	assert_int_equal(len, sizeof(v4_name));
	assert_memory_equal(name, v4_name, sizeof(v4_name));
	assert_int_equal(synth_reverse_build(&ip, name, len - 1, &len), -ENOSPC);
	assert_int_equal(synth_reverse_build(&bad, name, sizeof(name), &len), -EINVAL);

	ip = ip_of("2001:db8::abc:11");
	assert_int_equal(synth_reverse_build(&ip, name, sizeof(name), &len), 0);
	assert_int_equal(len, SYNTH_REVERSE_NAME_MAX);
	assert_int_equal(name[0], 1);
	assert_int_equal(name[1], '1');
	assert_int_equal(name[2 * 4 + 1], 'c');
	assert_int_equal(synth_reverse_parse(name, len, &back), 0);
	expect_ip(&back, "2001:db8::abc:11");
}

static void test_reverse_round_trip(void **state)
{
	static const char *const addrs[] = {
		"0.0.0.0",
		"255.255.255.255",
		"10.0.100.9",
		"192.0.2.1",
		"9.99.100.250",
		"::",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"2001:db8::abc:11",
		"fd00::cdef",
		"::ffff:192.0.2.1",
	};
	uint8_t name[SYNTH_REVERSE_NAME_MAX];
	struct synth_ip back;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct synth_ip ip = ip_of(addrs[i]);
		assert_int_equal(synth_reverse_build(&ip, name, sizeof(name), &len), 0);
		assert_int_equal(synth_reverse_parse(name, len, &back), 0);
		expect_ip(&back, addrs[i]);
	}
}

static void test_name_from_wire(void **state)
{
	char text[IPR_NAME_MAX + 1];
	uint8_t longest[SYNTH_NAME_WIRE_MAX + 1];

	(void)state;
	assert_int_equal(synth_name_from_wire((const uint8_t *)"\x02"
							       "B6\x07"
							       "Example\x03"
							       "net",
					      16, text),
			 0);
	assert_string_equal(text, "b6.example.net");
	/* the root alone, bytes after the root, a label past the end, pointers, odd characters */
	assert_int_equal(synth_name_from_wire((const uint8_t *)"", 1, text), -EINVAL);
	assert_int_equal(synth_name_from_wire((const uint8_t *)"\x01"
							       "a\x00\x00",
					      4, text),
			 -EINVAL);
	assert_int_equal(synth_name_from_wire((const uint8_t *)"\x05"
							       "ab",
					      4, text),
			 -EINVAL);
	assert_int_equal(synth_name_from_wire((const uint8_t *)"\xc0\x0c", 3, text), -EINVAL);
	assert_int_equal(synth_name_from_wire((const uint8_t *)"\x03"
							       "a_b",
					      5, text),
			 -EINVAL);
	assert_int_equal(synth_name_from_wire((const uint8_t *)"\x03"
							       "a.b",
					      5, text),
			 -EINVAL);
	assert_int_equal(synth_name_from_wire((const uint8_t *)"\x01"
							       "a",
					      2, text),
			 -EINVAL); /* no root */
	/* the longest name: 3 labels of 63 and one of 61, 255 bytes in wire form */
	memset(longest, 'a', sizeof(longest));
	longest[0] = longest[64] = longest[128] = 63;
	longest[192] = 61;
	longest[254] = 0;
	assert_int_equal(synth_name_from_wire(longest, 255, text), 0);
	assert_int_equal(strlen(text), 253);
	assert_int_equal(synth_name_from_wire(longest, 256, text), -EINVAL);
}

static void test_ptr_rdata(void **state)
{
	static const uint8_t expect[] = "\x00\x10"
					"\x02"
					"b6\x07"
					"example\x03"
					"net";
	uint8_t buf[SYNTH_PTR_RDATA_MAX];
	struct ipr_err err = { 0 };
	char longest[IPR_NAME_MAX + 1];
	size_t len;

	(void)state;
	assert_int_equal(synth_ptr_rdata("b6.example.net", 14, buf, sizeof(buf), &len, &err), 0);
	assert_int_equal(len, sizeof(expect));
	assert_memory_equal(buf, expect, sizeof(expect));
	assert_int_equal(synth_ptr_rdata("B6.Example.NET.", 15, buf, sizeof(buf), &len, NULL), 0);
	assert_memory_equal(buf, expect, sizeof(expect));
	assert_int_equal(synth_ptr_rdata("localhost", 9, buf, sizeof(buf), &len, NULL), 0);
	assert_int_equal(len, 2 + 11);

	assert_int_equal(synth_ptr_rdata("b6..example", 11, buf, sizeof(buf), &len, &err), -EINVAL);
	assert_string_equal(err.reason, "empty label in name");
	assert_int_equal(synth_ptr_rdata("", 0, buf, sizeof(buf), &len, &err), -EINVAL);
	assert_int_equal(synth_ptr_rdata(".", 1, buf, sizeof(buf), &len, &err), -EINVAL);
	assert_int_equal(synth_ptr_rdata("b6_x.example", 12, buf, sizeof(buf), &len, &err),
			 -EINVAL);
	assert_int_equal(synth_ptr_rdata("b6.example.net", 14, buf, sizeof(expect) - 1, &len, &err),
			 -ENOSPC);
	assert_int_equal(synth_ptr_rdata("b6.example.net", 14, buf, 1, &len, &err), -ENOSPC);
	assert_int_equal(synth_ptr_rdata("b6..example", 11, buf, 1, &len, &err), -EINVAL);

	/* the longest name: 63+1+63+1+63+1+61 characters, 255 bytes on the wire */
	memset(longest, 'a', IPR_NAME_MAX);
	longest[63] = longest[127] = longest[191] = '.';
	longest[IPR_NAME_MAX] = '\0';
	assert_int_equal(synth_ptr_rdata(longest, IPR_NAME_MAX, buf, sizeof(buf), &len, NULL), 0);
	assert_int_equal(len, SYNTH_PTR_RDATA_MAX);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[1], 255);
	assert_int_equal(
		synth_name_to_wire(longest, IPR_NAME_MAX, buf, SYNTH_NAME_WIRE_MAX, &len, NULL), 0);
	assert_int_equal(len, SYNTH_NAME_WIRE_MAX);
	assert_int_equal(buf[0], 63);
	assert_int_equal(buf[254], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txt_joined),
		cmocka_unit_test(test_txt_several),
		cmocka_unit_test(test_txt_mixed),
		cmocka_unit_test(test_txt_malformed),
		cmocka_unit_test(test_txt_limit_and_duplicates),
		cmocka_unit_test(test_txt_bad_contexts),
		cmocka_unit_test(test_txt_bad_contexts_take_no_slot),
		cmocka_unit_test(test_txt_check_site),
		cmocka_unit_test(test_ip_check),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_answer_a),
		cmocka_unit_test(test_answer_aaaa),
		cmocka_unit_test(test_answer_mismatch),
		cmocka_unit_test(test_answer_duplicates),
		cmocka_unit_test(test_answer_short_buffer),
		cmocka_unit_test(test_reverse_v4),
		cmocka_unit_test(test_reverse_v6),
		cmocka_unit_test(test_reverse_not_an_address),
		cmocka_unit_test(test_reverse_bad_labels),
		cmocka_unit_test(test_reverse_broken_wire),
		cmocka_unit_test(test_reverse_build),
		cmocka_unit_test(test_reverse_round_trip),
		cmocka_unit_test(test_ptr_rdata),
		cmocka_unit_test(test_name_from_wire),
	};
	return cmocka_run_group_tests_name("resolver-synth", tests, NULL, NULL);
}
