/* Answer data in Unbound's packed RDATA form: encoded A/AAAA records and PTR targets. */
#include "synth.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define QTYPE_A	   1
#define QTYPE_AAAA 28

static bool seen_before(const struct synth_ip *ips, size_t i, size_t alen)
{
	for (size_t j = 0; j < i; j++)
		if (memcmp(ips[j].addr, ips[i].addr, alen) == 0)
			return true;
	return false;
}

int synth_answer_build(uint16_t qtype, const struct synth_ip *ips, size_t n, uint8_t *buf,
		       size_t size, struct synth_answer *out)
{
	int family;
	size_t alen, distinct = 0, pos = 0;

	if (qtype == QTYPE_A) {
		family = AF_INET;
		alen = 4;
	} else if (qtype == QTYPE_AAAA) {
		family = AF_INET6;
		alen = 16;
	} else {
		return -EINVAL;
	}
	if (n > SYNTH_AA_MAX)
		return -E2BIG;
	if (n > 0 && !ips)
		return -EINVAL;

	/* Check everything before writing anything, so buf is untouched on error. */
	for (size_t i = 0; i < n; i++) {
		if (ips[i].family != family)
			return -EAFNOSUPPORT;
		if (!seen_before(ips, i, alen))
			distinct++;
	}
	if (distinct * (2 + alen) > size)
		return -ENOSPC;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if (seen_before(ips, i, alen))
			continue;
		out->data[out->count] = buf + pos;
		out->len[out->count] = 2 + alen;
		out->count++;
		buf[pos] = 0;
		buf[pos + 1] = (uint8_t)alen;
		memcpy(buf + pos + 2, ips[i].addr, alen);
		pos += 2 + alen;
	}
	out->total = pos;
	return 0;
}

int synth_name_to_wire(const char *text, size_t text_len, uint8_t *buf, size_t size, size_t *len,
		       struct ipr_err *err)
{
	char name[IPR_NAME_MAX + 1];
	size_t name_len, pos = 0, label = 0;
	int rc;

	rc = ipr_name_parse(text, text_len, name, err);
	if (rc < 0)
		return rc;
	name_len = strlen(name);
	/* Each dot becomes a length byte, plus one in front and the root at the end. */
	if (name_len + 2 > size)
		return -ENOSPC;

	for (size_t i = 0; i <= name_len; i++) {
		if (i < name_len && name[i] != '.')
			continue;
		buf[pos++] = (uint8_t)(i - label);
		memcpy(buf + pos, name + label, i - label);
		pos += i - label;
		label = i + 1;
	}
	buf[pos++] = 0;
	*len = pos;
	return 0;
}

int synth_ptr_rdata(const char *text, size_t text_len, uint8_t *buf, size_t size, size_t *len,
		    struct ipr_err *err)
{
	size_t wire_len;
	int rc;

	if (size < 2)
		return ipr_name_parse(text, text_len, NULL, err) < 0 ? -EINVAL : -ENOSPC;
	rc = synth_name_to_wire(text, text_len, buf + 2, size - 2, &wire_len, err);
	if (rc < 0)
		return rc;
	buf[0] = (uint8_t)(wire_len >> 8);
	buf[1] = (uint8_t)wire_len;
	*len = wire_len + 2;
	return 0;
}

int synth_name_from_wire(const uint8_t *wire, size_t len, char out[IPR_NAME_MAX + 1])
{
	char text[SYNTH_NAME_WIRE_MAX];
	size_t pos = 0, n = 0;

	if (len == 0 || len > SYNTH_NAME_WIRE_MAX)
		return -EINVAL;
	while (pos < len && wire[pos] != 0) {
		size_t label = wire[pos++];

		/* 0xc0 and up are compression pointers, which a question name never holds */
		if (label > 63 || pos + label >= len || memchr(wire + pos, '.', label))
			return -EINVAL;
		if (n)
			text[n++] = '.';
		memcpy(text + n, wire + pos, label);
		n += label;
		pos += label;
	}
	if (pos + 1 != len || n == 0)
		return -EINVAL; /* the root alone, or bytes after it */
	return ipr_name_parse(text, n, out, NULL);
}
