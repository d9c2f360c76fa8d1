/* Fuzzes the ipref module's synthesis logic: TXT RRsets, reverse names, PTR targets. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "prefix.h"
#include "synth.h"

/*
 * Input framing: byte 0 picks what the rest is.
 *   bits 0-1  0: a TXT RRset, as items of a 2-byte big-endian length and that many bytes of
 *                TXT RDATA (a length past the end takes what is left), at most ITEMS_MAX;
 *             1: a PTR question name in wire form;
 *             2: the text of a name for PTR RDATA;
 *             3: byte 1 (bit 0: IPv6) and 16 address bytes to build a reverse name from,
 *                then one prefix length byte and 16 prefix bytes.
 *   bits 2-3  the gateway's families for mode 0 (SYNTH_FAMILY_*).
 */
#define ITEMS_MAX 32

static void check_answer(uint16_t qtype, const struct synth_ip *ips, size_t n)
{
	uint8_t buf[SYNTH_ANSWER_MAX];
	struct synth_answer ans;
	size_t alen = qtype == 1 ? 4 : 16;
	int rc;

	rc = synth_answer_build(qtype, ips, n, buf, sizeof(buf), &ans);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(ans.count <= n && (n == 0 || ans.count > 0));
	FUZZ_CHECK(ans.total == ans.count * (2 + alen));
	for (size_t i = 0; i < ans.count; i++) {
		FUZZ_CHECK(ans.len[i] == 2 + alen);
		FUZZ_CHECK(ans.data[i] == buf + i * (2 + alen));
		FUZZ_CHECK(ans.data[i][0] == 0 && ans.data[i][1] == alen);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(memcmp(ans.data[i] + 2, ans.data[j] + 2, alen) != 0);
	}
	if (ans.total > 0) {
		rc = synth_answer_build(qtype, ips, n, buf, ans.total - 1, &ans);
		FUZZ_CHECK(rc == -ENOSPC);
	}
	/* never an A record for an AAAA question, nor the reverse */
	if (n > 0) {
		rc = synth_answer_build(qtype == 1 ? 28 : 1, ips, n, buf, sizeof(buf), &ans);
		FUZZ_CHECK(rc == -EAFNOSUPPORT);
	}
}

static void fuzz_txt(const uint8_t *data, size_t size, unsigned families)
{
	struct synth_rdata items[ITEMS_MAX];
	struct synth_txt txt;
	struct synth_ip v4[SYNTH_AA_MAX], v6[SYNTH_AA_MAX];
	size_t n = 0, pos = 0, n4 = 0, n6 = 0;
	uint32_t ttl = 3600;
	int rc;

	while (pos + 2 <= size && n < ITEMS_MAX) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		items[n++] = (struct synth_rdata){ data + pos, len };
		pos += len;
	}

	rc = synth_txt_parse(items, n, 3600, &txt);
	FUZZ_CHECK(rc == 0 || rc == -ENOENT);
	FUZZ_CHECK((rc == 0) == (txt.count > 0));
	FUZZ_CHECK(txt.count <= SYNTH_AA_MAX);
	FUZZ_CHECK(txt.ttl == 3600);
	FUZZ_CHECK(txt.count + txt.malformed + txt.bad_context + txt.not_aa + txt.broken +
			   txt.duplicates + txt.over_limit ==
		   n);
	FUZZ_CHECK(txt.over_limit == 0 || txt.count == SYNTH_AA_MAX);

	for (size_t i = 0; i < txt.count; i++) {
		const struct ipr_addr *rec = &txt.records[i];
		struct synth_plan plan;
		struct synth_ip ip = { 0 };
		uint8_t qname[SYNTH_NAME_WIRE_MAX];
		size_t qname_len;
		uint32_t name_ttl = (uint32_t)i * 1000, mapping_ttl = UINT32_MAX - (uint32_t)i;
		uint32_t next;

		FUZZ_CHECK(!ipr_ref_is_null(&rec->ref));
		/* kept contexts are usable and already in IPv4 form when they are IPv4 */
		struct ipr_context again = rec->context;
		FUZZ_CHECK(!ipr_context_unmap(&again));
		FUZZ_CHECK(ipr_context_check(&again, NULL) == IPR_ADDR_USABLE);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(!ipr_ref_equal(&rec->ref, &txt.records[j].ref) ||
				   !ipr_context_equal(&rec->context, &txt.records[j].context));

		rc = synth_plan_record(rec, families, &plan);
		FUZZ_CHECK(rc == 0 || rc == -ENETUNREACH);
		if (rc == 0 && plan.kind == SYNTH_NEEDS_NAME) {
			FUZZ_CHECK(rec->context.kind == IPR_CONTEXT_NAME);
			FUZZ_CHECK(plan.name == rec->context.name && plan.lookups == families);
			/* a parsed context name always makes a sub-query name */
			rc = synth_name_to_wire(plan.name, strlen(plan.name), qname, sizeof(qname),
						&qname_len, NULL);
			FUZZ_CHECK(rc == 0 && qname_len <= SYNTH_NAME_WIRE_MAX);
		} else if (rc == 0) {
			FUZZ_CHECK((int)plan.kind == (int)rec->context.kind && !plan.name);
			FUZZ_CHECK(families & (plan.kind == SYNTH_ADDRESS_V4 ? SYNTH_FAMILY_V4
									     : SYNTH_FAMILY_V6));
		}

		next = synth_answer_ttl(ttl, &name_ttl, mapping_ttl);
		FUZZ_CHECK(next <= ttl && next <= name_ttl && next <= mapping_ttl);
		ttl = next;

		/* stand-ins for encoded addresses, with the duplicates TXT data can produce */
		if (rec->context.kind == IPR_CONTEXT_IPV4) {
			ip.family = AF_INET;
			memcpy(ip.addr, rec->context.ipv4, 4);
			v4[n4++] = ip;
		} else if (rec->context.kind == IPR_CONTEXT_IPV6) {
			ip.family = AF_INET6;
			memcpy(ip.addr, rec->context.ipv6, 16);
			v6[n6++] = ip;
		}
	}
	check_answer(1, v4, n4);
	check_answer(28, v6, n6);

	/* the site's step only ever removes, in order, and counts what it removed */
	struct ipr_site site = { .range_count = 1, .own_count = 1 };
	size_t before = txt.count, bad = txt.bad_context;
	site.ranges[0] = (struct ipr_prefix){ .family = AF_INET, .addr = { 10, 240 }, .len = 12 };
	site.own[0] = (struct ipr_context){ .kind = IPR_CONTEXT_IPV4, .ipv4 = { 192, 0, 2, 1 } };
	size_t dropped = synth_txt_check_site(&txt, &site);
	FUZZ_CHECK(txt.count + dropped == before && txt.bad_context == bad + dropped);
	FUZZ_CHECK(synth_txt_check_site(&txt, &site) == 0);
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

/* Building the reverse name of ip and reading it back gives ip; prefix checks agree. */
static void round_trip(const struct synth_ip *ip, uint8_t *name, size_t *len)
{
	struct synth_ip back;
	struct ipr_prefix self = { .family = ip->family };
	unsigned bits = ip->family == AF_INET ? 32 : 128;

	FUZZ_CHECK(synth_reverse_build(ip, name, SYNTH_REVERSE_NAME_MAX, len) == 0);
	FUZZ_CHECK(synth_reverse_parse(name, *len, &back) == 0);
	FUZZ_CHECK(back.family == ip->family && memcmp(back.addr, ip->addr, 16) == 0);
	memcpy(self.addr, ip->addr, 16);
	for (self.len = 0; self.len <= bits; self.len++)
		FUZZ_CHECK(ipr_prefix_contains(&self, ip->family, ip->addr));
	FUZZ_CHECK(!ipr_prefix_contains(&self, ip->family, ip->addr));
}

/* A question name as text for gwctld: canonical, and back to the same wire name. */
static void fuzz_name_from_wire(const uint8_t *data, size_t size)
{
	char text[IPR_NAME_MAX + 1];
	uint8_t wire[SYNTH_NAME_WIRE_MAX];
	size_t len;

	if (synth_name_from_wire(data, size, text) < 0)
		return;
	FUZZ_CHECK(synth_name_to_wire(text, strlen(text), wire, sizeof(wire), &len, NULL) == 0);
	FUZZ_CHECK(len == size);
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK(wire[i] == (data[i] >= 'A' && data[i] <= 'Z' ? data[i] + 32 : data[i]));
}

static void fuzz_reverse(const uint8_t *data, size_t size)
{
	uint8_t name[SYNTH_REVERSE_NAME_MAX];
	struct synth_ip ip = { .family = -1 };
	size_t len;
	int rc;

	fuzz_name_from_wire(data, size);
	rc = synth_reverse_parse(data, size, &ip);
	FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL || rc == -EBADMSG);
	if (rc < 0) {
		FUZZ_CHECK(ip.family == -1);
		return;
	}
	FUZZ_CHECK(ip.family == AF_INET || ip.family == AF_INET6);
	if (ip.family == AF_INET)
		for (size_t i = 4; i < 16; i++)
			FUZZ_CHECK(ip.addr[i] == 0);
	round_trip(&ip, name, &len);
	/* the parse is strict: an address has one reverse name, up to case */
	FUZZ_CHECK(len == size);
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK(lower(data[i]) == name[i]);
}

static void fuzz_ptr(const uint8_t *data, size_t size)
{
	uint8_t buf[SYNTH_PTR_RDATA_MAX];
	struct ipr_err err = { 0 };
	size_t len, pos = 2, out = 0, text_len = size;
	int rc;

	rc = synth_ptr_rdata((const char *)data, size, buf, sizeof(buf), &len, &err);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc < 0) {
		FUZZ_CHECK(err.reason != NULL);
		return;
	}
	FUZZ_CHECK(len > 3 && len <= SYNTH_PTR_RDATA_MAX);
	FUZZ_CHECK((size_t)(buf[0] << 8 | buf[1]) == len - 2);
	/* walking the labels gives back the text, lower case, without its trailing dot */
	if (text_len > 1 && data[text_len - 1] == '.')
		text_len--;
	while (buf[pos] != 0) {
		size_t l = buf[pos++];
		FUZZ_CHECK(l <= 63 && pos + l < len);
		if (out > 0) {
			FUZZ_CHECK(out < text_len && data[out] == '.');
			out++;
		}
		for (size_t i = 0; i < l; i++, out++)
			FUZZ_CHECK(out < text_len && lower(data[out]) == buf[pos + i]);
		pos += l;
	}
	FUZZ_CHECK(pos + 1 == len && out == text_len);
}

static void fuzz_build(const uint8_t *data, size_t size)
{
	uint8_t name[SYNTH_REVERSE_NAME_MAX];
	struct synth_ip ip = { 0 };
	struct ipr_prefix prefix = { 0 };
	size_t len, alen;

	if (size < 1 + 16 + 1 + 16)
		return;
	ip.family = data[0] & 1 ? AF_INET6 : AF_INET;
	alen = ip.family == AF_INET ? 4 : 16;
	memcpy(ip.addr, data + 1, alen);
	round_trip(&ip, name, &len);

	/* against a bit-by-bit reading of the same prefix */
	prefix.family = ip.family;
	prefix.len = data[17];
	memcpy(prefix.addr, data + 18, 16);
	bool inside = prefix.len <= alen * 8;
	for (unsigned b = 0; inside && b < prefix.len; b++) {
		unsigned shift = 7 - b % 8;
		inside = (prefix.addr[b / 8] >> shift & 1) == (ip.addr[b / 8] >> shift & 1);
	}
	FUZZ_CHECK(ipr_prefix_contains(&prefix, ip.family, ip.addr) == inside);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] & 3) {
	case 0:
		fuzz_txt(data + 1, size - 1, (data[0] >> 2) & 3);
		break;
	case 1:
		fuzz_reverse(data + 1, size - 1);
		break;
	case 2:
		fuzz_ptr(data + 1, size - 1);
		break;
	default:
		fuzz_build(data + 1, size - 1);
		break;
	}
	return 0;
}
