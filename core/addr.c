/* Parsing and printing IPREF addresses and their contexts (spec/addresses.md). */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#define LABEL_MAX 63

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ldh(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

int ipr_ipv4_parse(const char *text, size_t len, uint8_t out[4], struct ipr_err *err)
{
	uint8_t octets[4];
	size_t i = 0;

	for (int field = 0; field < 4; field++) {
		size_t start = i;
		unsigned value = 0;

		if (field > 0) {
			if (i >= len || text[i] != '.')
				return ipr_fail(err, EINVAL, i + 1,
						"not an IPv4 address (four decimal octets 0-255)");
			start = ++i;
		}
		while (i < len && is_digit(text[i]) && i - start < 3)
			value = value * 10 + (unsigned)(text[i++] - '0');
		if (i == start)
			return ipr_fail(err, EINVAL, start + 1,
					"not an IPv4 address (four decimal octets 0-255)");
		if (i < len && is_digit(text[i]))
			return ipr_fail(err, EINVAL, start + 1,
					"IPv4 octet has more than 3 digits");
		if (value > 255)
			return ipr_fail(err, EINVAL, start + 1, "IPv4 octet above 255");
		if (text[start] == '0' && i - start > 1)
			return ipr_fail(err, EINVAL, start + 1, "IPv4 octet with a leading zero");
		octets[field] = (uint8_t)value;
	}
	if (i != len)
		return ipr_fail(err, EINVAL, i + 1,
				"not an IPv4 address (four decimal octets 0-255)");
	memcpy(out, octets, sizeof(octets));
	return 0;
}

int ipr_ipv6_parse(const char *text, size_t len, uint8_t out[16], struct ipr_err *err)
{
	char buf[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '%')
			return ipr_fail(err, EINVAL, i + 1, "IPv6 zone index not allowed here");
		if (c == '[' || c == ']')
			return ipr_fail(err, EINVAL, i + 1,
					"IPv6 address without brackets expected");
		if (!(is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
		      c == '.'))
			return ipr_fail(err, EINVAL, i + 1, "unexpected character in IPv6 address");
	}
	if (len >= sizeof(buf))
		return ipr_fail(err, EINVAL, 1, "not an IPv6 address (too long)");
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET6, buf, out) != 1)
		return ipr_fail(err, EINVAL, 1, "not an IPv6 address");
	return 0;
}

int ipr_name_parse(const char *text, size_t len, char out[IPR_NAME_MAX + 1], struct ipr_err *err)
{
	size_t label_start = 0;

	if (len == 0)
		return ipr_fail(err, EINVAL, 0, "name is empty");
	if (text[len - 1] == '.' && len > 1)
		len--; /* one trailing dot: the absolute form of the same name */
	if (len > IPR_NAME_MAX)
		return ipr_fail(err, EINVAL, IPR_NAME_MAX + 1, "name longer than 253 characters");

	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '.') {
			if (!is_ldh(text[i]))
				return ipr_fail(
					err, EINVAL, i + 1,
					"unexpected character in name (letters, digits, '-')");
			continue;
		}
		size_t label_len = i - label_start;
		if (label_len == 0)
			return ipr_fail(err, EINVAL, i + 1, "empty label in name");
		if (label_len > LABEL_MAX)
			return ipr_fail(err, EINVAL, label_start + 1,
					"label longer than 63 characters");
		if (text[label_start] == '-')
			return ipr_fail(err, EINVAL, label_start + 1, "label starts with '-'");
		if (text[i - 1] == '-')
			return ipr_fail(err, EINVAL, i, "label ends with '-'");
		label_start = i + 1;
	}
	if (out) {
		for (size_t i = 0; i < len; i++) {
			char c = text[i];
			out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		}
		out[len] = '\0';
	}
	return 0;
}

int ipr_context_parse(const char *text, size_t len, struct ipr_context *out, struct ipr_err *err)
{
	struct ipr_context context;
	bool digits_and_dots = true;
	int rc;

	if (len == 0)
		return ipr_fail(err, EINVAL, 0, "context is empty");
	memset(&context, 0, sizeof(context));
	if (memchr(text, ':', len)) {
		context.kind = IPR_CONTEXT_IPV6;
		rc = ipr_ipv6_parse(text, len, context.ipv6, err);
	} else {
		for (size_t i = 0; i < len; i++)
			digits_and_dots = digits_and_dots && (is_digit(text[i]) || text[i] == '.');
		/* All digits and dots is an IPv4 attempt: "192.0.2" must not pass as a name. */
		if (digits_and_dots) {
			context.kind = IPR_CONTEXT_IPV4;
			rc = ipr_ipv4_parse(text, len, context.ipv4, err);
		} else {
			context.kind = IPR_CONTEXT_NAME;
			rc = ipr_name_parse(text, len, context.name, err);
		}
	}
	if (rc == 0)
		*out = context;
	return rc;
}

int ipr_addr_parse(const char *text, size_t len, struct ipr_addr *out, struct ipr_err *err)
{
	struct ipr_addr addr;
	const char *plus = memchr(text, '+', len);
	size_t context_end, ref_start;
	int rc;

	if (len == 0)
		return ipr_fail(err, EINVAL, 0, "address is empty");
	if (!plus)
		return ipr_fail(err, EINVAL, len + 1, "missing '+' between context and reference");
	if (is_blank(text[0]))
		return ipr_fail(err, EINVAL, 1, "whitespace before the context");

	context_end = (size_t)(plus - text);
	while (context_end > 0 && is_blank(text[context_end - 1]))
		context_end--;
	if (context_end == 0)
		return ipr_fail(err, EINVAL, 1, "missing context before '+'");
	rc = ipr_context_parse(text, context_end, &addr.context, err);
	if (rc < 0)
		return rc;

	ref_start = (size_t)(plus - text) + 1;
	while (ref_start < len && is_blank(text[ref_start]))
		ref_start++;
	if (ref_start == len)
		return ipr_fail(err, EINVAL, len + 1, "missing reference after '+'");
	rc = ipr_ref_parse(text + ref_start, len - ref_start, &addr.ref, err);
	if (rc < 0) {
		if (err && err->column)
			err->column += ref_start;
		return rc;
	}
	*out = addr;
	return 0;
}

size_t ipr_context_format(const struct ipr_context *context, char *buf)
{
	switch (context->kind) {
	case IPR_CONTEXT_IPV4:
		inet_ntop(AF_INET, context->ipv4, buf, INET_ADDRSTRLEN);
		break;
	case IPR_CONTEXT_IPV6:
		inet_ntop(AF_INET6, context->ipv6, buf, INET6_ADDRSTRLEN);
		break;
	case IPR_CONTEXT_NAME:
		memcpy(buf, context->name, strnlen(context->name, IPR_NAME_MAX) + 1);
		buf[IPR_NAME_MAX] = '\0';
		break;
	default:
		buf[0] = '\0';
		break;
	}
	return strlen(buf);
}

size_t ipr_addr_format(const struct ipr_addr *addr, enum ipr_ref_style style, char *buf)
{
	size_t n = ipr_context_format(&addr->context, buf);

	memcpy(buf + n, " + ", 3);
	n += 3;
	if (style == IPR_REF_HEX)
		return n + ipr_ref_format_hex(&addr->ref, buf + n);
	return n + ipr_ref_format(&addr->ref, buf + n);
}

int ipr_context_compare(const struct ipr_context *a, const struct ipr_context *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	switch (a->kind) {
	case IPR_CONTEXT_IPV4:
		return memcmp(a->ipv4, b->ipv4, sizeof(a->ipv4));
	case IPR_CONTEXT_IPV6:
		return memcmp(a->ipv6, b->ipv6, sizeof(a->ipv6));
	case IPR_CONTEXT_NAME:
		return strcmp(a->name, b->name);
	}
	return 0;
}

bool ipr_context_equal(const struct ipr_context *a, const struct ipr_context *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case IPR_CONTEXT_IPV4:
		return memcmp(a->ipv4, b->ipv4, sizeof(a->ipv4)) == 0;
	case IPR_CONTEXT_IPV6:
		return memcmp(a->ipv6, b->ipv6, sizeof(a->ipv6)) == 0;
	case IPR_CONTEXT_NAME:
		return strcmp(a->name, b->name) == 0;
	}
	return false;
}
