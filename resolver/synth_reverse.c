/* Reverse names under in-addr.arpa and ip6.arpa, both ways, and encoded-prefix membership. */
#include "synth.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* A wire name of 255 bytes holds at most 127 non-root labels. */
#define LABELS_MAX 127

static const uint8_t v4_zone[] = "\x07in-addr\x04"
				 "arpa";
static const uint8_t v6_zone[] = "\x03ip6\x04"
				 "arpa";
static const char hex_digits[] = "0123456789abcdef";

/* Offsets of the non-root labels; -EBADMSG unless name is exactly one uncompressed name. */
static int split_labels(const uint8_t *name, size_t len, size_t offs[LABELS_MAX], size_t *count)
{
	size_t pos = 0, n = 0;

	if (len > SYNTH_NAME_WIRE_MAX)
		return -EBADMSG;
	for (;;) {
		if (pos >= len)
			return -EBADMSG;
		uint8_t l = name[pos];
		if (l == 0)
			break;
		/* compression pointers and extended label types have no place in a qname */
		if (l & 0xc0)
			return -EBADMSG;
		if (l > len - pos - 1 || n == LABELS_MAX)
			return -EBADMSG;
		offs[n++] = pos;
		pos += 1 + (size_t)l;
	}
	if (pos + 1 != len)
		return -EBADMSG;
	*count = n;
	return 0;
}

/* Whether a label equals want (lower case), ASCII letters in any case: no locale involved. */
static bool label_equal(const uint8_t *label, const uint8_t *want)
{
	if (label[0] != want[0])
		return false;
	for (size_t i = 1; i <= want[0]; i++) {
		uint8_t c = label[i];
		if (c >= 'A' && c <= 'Z')
			c |= 0x20;
		if (c != want[i])
			return false;
	}
	return true;
}

/* Whether the last two labels are the zone's two labels. */
static bool under_zone(const uint8_t *name, const size_t *offs, size_t n, const uint8_t *zone)
{
	return n >= 2 && label_equal(name + offs[n - 2], zone) &&
	       label_equal(name + offs[n - 1], zone + zone[0] + 1);
}

/* 0-255 in decimal, no leading zeros; -1 if not. */
static int octet_label(const uint8_t *label)
{
	size_t l = label[0];
	int value = 0;

	if (l == 0 || l > 3 || (l > 1 && label[1] == '0'))
		return -1;
	for (size_t i = 1; i <= l; i++) {
		if (label[i] < '0' || label[i] > '9')
			return -1;
		value = value * 10 + (label[i] - '0');
	}
	return value <= 255 ? value : -1;
}

/* One hex digit in either case; -1 if not. */
static int nibble_label(const uint8_t *label)
{
	uint8_t c = label[1];

	if (label[0] != 1)
		return -1;
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int synth_reverse_parse(const uint8_t *name, size_t len, struct synth_ip *out)
{
	size_t offs[LABELS_MAX], n, need;
	struct synth_ip ip = { 0 };
	bool v4;
	int rc;

	if (!name)
		return -EBADMSG;
	rc = split_labels(name, len, offs, &n);
	if (rc < 0)
		return rc;
	if (under_zone(name, offs, n, v4_zone))
		v4 = true;
	else if (under_zone(name, offs, n, v6_zone))
		v4 = false;
	else
		return -ENOENT;
	need = v4 ? 4 : 32;
	n -= 2;

	/* A bad label is malformed whatever the count: no address's name has it. */
	for (size_t i = 0; i < n; i++) {
		int v = v4 ? octet_label(name + offs[i]) : nibble_label(name + offs[i]);
		if (v < 0)
			return -EINVAL;
		if (i >= need)
			continue;
		/* the first label is the least significant octet or nibble */
		if (v4) {
			ip.addr[3 - i] = (uint8_t)v;
		} else {
			size_t j = 31 - i;
			ip.addr[j / 2] |= (uint8_t)(j % 2 ? v : v << 4);
		}
	}
	if (n < need)
		return -ENOENT;
	if (n > need)
		return -EINVAL;
	ip.family = v4 ? AF_INET : AF_INET6;
	*out = ip;
	return 0;
}

int synth_reverse_build(const struct synth_ip *ip, uint8_t *buf, size_t size, size_t *len)
{
	uint8_t name[SYNTH_REVERSE_NAME_MAX];
	size_t pos = 0;

	if (ip->family == AF_INET) {
		for (int i = 3; i >= 0; i--) {
			uint8_t v = ip->addr[i];
			size_t start = pos++;
			if (v >= 100)
				name[pos++] = (uint8_t)('0' + v / 100);
			if (v >= 10)
				name[pos++] = (uint8_t)('0' + v / 10 % 10);
			name[pos++] = (uint8_t)('0' + v % 10);
			name[start] = (uint8_t)(pos - start - 1);
		}
		memcpy(name + pos, v4_zone, sizeof(v4_zone));
		pos += sizeof(v4_zone);
	} else if (ip->family == AF_INET6) {
		for (int j = 31; j >= 0; j--) {
			uint8_t byte = ip->addr[j / 2];
			name[pos++] = 1;
			name[pos++] = (uint8_t)hex_digits[j % 2 ? byte & 0xf : byte >> 4];
		}
		memcpy(name + pos, v6_zone, sizeof(v6_zone));
		pos += sizeof(v6_zone);
	} else {
		return -EINVAL;
	}
	/* sizeof includes the string's NUL, which is the root label */
	if (pos > size)
		return -ENOSPC;
	memcpy(buf, name, pos);
	*len = pos;
	return 0;
}
