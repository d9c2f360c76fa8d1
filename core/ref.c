/* Parsing and printing IPREF references in the notations of spec/addresses.md. */
#include "ref.h"

#include <errno.h>

/* 128-bit arithmetic keeps overflow checks exact; it never leaves this file. */
__extension__ typedef unsigned __int128 u128;

#define U128_MAX   (~(u128)0)
#define HEX_GROUPS 8

static u128 ref_to_u128(const struct ipr_ref *ref)
{
	return ((u128)ref->hi << 64) | ref->lo;
}

static struct ipr_ref ref_from_u128(u128 value)
{
	return (struct ipr_ref){ .hi = (uint64_t)(value >> 64), .lo = (uint64_t)value };
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A single separator must sit between two digits of its notation. */
static bool between_digits(const char *text, size_t len, size_t i, bool hex)
{
	if (i == 0 || i + 1 >= len)
		return false;
	if (hex)
		return hex_value(text[i - 1]) >= 0 && hex_value(text[i + 1]) >= 0;
	return is_digit(text[i - 1]) && is_digit(text[i + 1]);
}

static int parse_decimal(const char *text, size_t len, u128 *out, struct ipr_err *err)
{
	u128 value = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == ',') {
			if (!between_digits(text, len, i, false))
				return ipr_fail(err, EINVAL, i + 1,
						"comma needs a digit on both sides");
			continue;
		}
		unsigned digit = (unsigned)(text[i] - '0');
		if (value > (U128_MAX - digit) / 10)
			return ipr_fail(err, ERANGE, i + 1, "reference does not fit in 128 bits");
		value = value * 10 + digit;
	}
	*out = value;
	return 0;
}

static int parse_dotted(const char *text, size_t len, u128 *out, struct ipr_err *err)
{
	u128 value = 0;
	size_t fields = 0;
	size_t i = 0;

	while (i <= len) {
		size_t start = i;
		unsigned field = 0;

		while (i < len && is_digit(text[i])) {
			field = field * 10 + (unsigned)(text[i] - '0');
			if (field > 255)
				return ipr_fail(err, EINVAL, start + 1, "dotted field above 255");
			i++;
		}
		if (i == start)
			return ipr_fail(err, EINVAL, i == 0 ? 1 : i,
					"dot needs a digit on both sides");
		if (++fields > 16)
			return ipr_fail(err, ERANGE, start + 1,
					"more than 16 dotted fields do not fit in 128 bits");
		value = (value << 8) | field;
		i++; /* the dot, or one past the end */
	}
	*out = value;
	return 0;
}

/* Free hex (UUID style): every dash is ignored, the digits form one number. */
static int parse_free_hex(const char *text, size_t len, u128 *out, struct ipr_err *err)
{
	u128 value = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '-')
			continue;
		if (value >> 124)
			return ipr_fail(err, ERANGE, i + 1, "reference does not fit in 128 bits");
		value = (value << 4) | (unsigned)hex_value(text[i]);
	}
	*out = value;
	return 0;
}

/*
 * Hex with dashes. Groups of at most four digits are 16-bit fields aligned to the right; one
 * "--" stands for as many zero groups as make eight in all, as "::" does in IPv6, but never at
 * the start. A group of more than four digits switches to free hex, which cannot be combined
 * with "--".
 */
static int parse_hex(const char *text, size_t len, u128 *out, struct ipr_err *err)
{
	uint16_t head[HEX_GROUPS], tail[HEX_GROUPS];
	size_t heads = 0, tails = 0, gap_column = 0;
	bool long_group = false;
	size_t i = 0;

	/* First pass: dash placement, and whether any group is longer than four digits. */
	for (size_t start = 0; start < len;) {
		size_t end = start;
		while (end < len && text[end] != '-')
			end++;
		if (end - start > 4)
			long_group = true;
		if (end == len)
			break;
		size_t run = 1;
		while (end + run < len && text[end + run] == '-')
			run++;
		if (run > 2)
			return ipr_fail(err, EINVAL, end + 1, "more than two dashes in a row");
		if (run == 2) {
			/*
			 * The deployed parser refuses a leading "--", so a record written so would
			 * work with our resolver and no other (spec/addresses.md).
			 */
			if (end == 0)
				return ipr_fail(err, EINVAL, 1,
						"a reference may not start with '--'");
			if (gap_column)
				return ipr_fail(err, EINVAL, end + 1, "'--' may appear only once");
			gap_column = end + 1;
		} else if (!between_digits(text, len, end, true)) {
			return ipr_fail(err, EINVAL, end + 1,
					"dash needs a hex digit on both sides");
		}
		start = end + run;
	}
	if (long_group) {
		if (gap_column)
			return ipr_fail(
				err, EINVAL, gap_column,
				"'--' cannot be combined with groups of more than 4 digits");
		return parse_free_hex(text, len, out, err);
	}

	/* Second pass: collect the groups before and after the "--" (or all of them). */
	while (i < len) {
		if (text[i] == '-') {
			i++;
			continue;
		}
		uint16_t group = 0;
		size_t start = i;
		while (i < len && text[i] != '-')
			group = (uint16_t)((group << 4) | (unsigned)hex_value(text[i++]));
		/* gap_column is the 1-based column of the gap's first dash. */
		bool after_gap = gap_column && start >= gap_column;
		if (heads + tails == HEX_GROUPS)
			return ipr_fail(err, ERANGE, start + 1,
					"more than 8 groups do not fit in 128 bits");
		if (after_gap)
			tail[tails++] = group;
		else
			head[heads++] = group;
	}
	if (gap_column && heads + tails == HEX_GROUPS)
		return ipr_fail(err, EINVAL, gap_column,
				"'--' must stand for at least one zero group");

	u128 value = 0;
	for (size_t g = 0; g < heads; g++)
		value = (value << 16) | head[g];
	if (gap_column) {
		size_t zero_groups = HEX_GROUPS - heads - tails;
		value = zero_groups == HEX_GROUPS ? 0 : value << (16 * zero_groups);
		for (size_t g = 0; g < tails; g++)
			value = (value << 16) | tail[g];
	}
	*out = value;
	return 0;
}

int ipr_ref_parse(const char *text, size_t len, struct ipr_ref *out, struct ipr_err *err)
{
	size_t first_letter = 0;
	char sep = 0;
	u128 value = 0;
	int rc;

	if (len == 0)
		return ipr_fail(err, EINVAL, 0, "reference is empty");

	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (is_digit(c))
			continue;
		if (hex_value(c) >= 0) {
			if (!first_letter)
				first_letter = i + 1;
		} else if (c == '-' || c == '.' || c == ',') {
			if (!sep)
				sep = c;
			else if (c != sep)
				return ipr_fail(err, EINVAL, i + 1,
						"mixed separators: a reference uses one notation");
		} else if (c == ' ' || c == '\t') {
			return ipr_fail(err, EINVAL, i + 1,
					"whitespace inside or after the reference");
		} else if (c == '+') {
			return ipr_fail(err, EINVAL, i + 1, "unexpected '+' in the reference");
		} else {
			return ipr_fail(err, EINVAL, i + 1,
					"unexpected character in the reference");
		}
	}

	if (sep == '-')
		rc = parse_hex(text, len, &value, err);
	else if (first_letter)
		return ipr_fail(err, EINVAL, first_letter,
				sep ? "hex digits are only allowed in dash notation"
				    : "hex needs a dash (16-bit groups such as 0-ab)");
	else if (sep == '.')
		rc = parse_dotted(text, len, &value, err);
	else
		rc = parse_decimal(text, len, &value, err);
	if (rc == 0)
		*out = ref_from_u128(value);
	return rc;
}

size_t ipr_ref_format(const struct ipr_ref *ref, char *buf)
{
	char digits[IPR_REF_TEXT_MAX];
	u128 value = ref_to_u128(ref);
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + (unsigned)(value % 10));
		value /= 10;
	} while (value);
	for (size_t i = 0; i < n; i++)
		buf[i] = digits[n - 1 - i];
	buf[n] = '\0';
	return n;
}

size_t ipr_ref_format_hex(const struct ipr_ref *ref, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	u128 value = ref_to_u128(ref);
	size_t first = 0, n = 0;
	uint16_t groups[HEX_GROUPS];

	for (int g = HEX_GROUPS - 1; g >= 0; g--) {
		groups[g] = (uint16_t)value;
		value >>= 16;
	}
	while (first < HEX_GROUPS - 2 && groups[first] == 0)
		first++;
	for (size_t g = first; g < HEX_GROUPS; g++) {
		if (g > first)
			buf[n++] = '-';
		bool started = false;
		for (int shift = 12; shift >= 0; shift -= 4) {
			unsigned nibble = (groups[g] >> shift) & 0xf;
			if (nibble || started || shift == 0) {
				buf[n++] = hex[nibble];
				started = true;
			}
		}
	}
	buf[n] = '\0';
	return n;
}

void ipr_ref_to_bytes(const struct ipr_ref *ref, uint8_t out[16])
{
	for (int i = 0; i < 8; i++) {
		out[i] = (uint8_t)(ref->hi >> (56 - 8 * i));
		out[8 + i] = (uint8_t)(ref->lo >> (56 - 8 * i));
	}
}

struct ipr_ref ipr_ref_from_bytes(const uint8_t in[16])
{
	struct ipr_ref ref = { 0, 0 };

	for (int i = 0; i < 8; i++) {
		ref.hi = (ref.hi << 8) | in[i];
		ref.lo = (ref.lo << 8) | in[8 + i];
	}
	return ref;
}

enum ipr_ref_use ipr_ref_use_of(const struct ipr_ref *ref, const struct ipr_ref *dynamic_min,
				const struct ipr_ref *dynamic_max)
{
	const struct ipr_ref reserved_end = ipr_ref_from_u64(IPR_REF_RESERVED_END);

	if (ipr_ref_is_null(ref))
		return IPR_REF_NULL;
	if (ipr_ref_compare(ref, &reserved_end) < 0)
		return IPR_REF_RESERVED;
	if (ipr_ref_compare(ref, dynamic_min) >= 0 && ipr_ref_compare(ref, dynamic_max) <= 0)
		return IPR_REF_DYNAMIC;
	return IPR_REF_PUBLISHABLE;
}

const char *ipr_ref_use_text(enum ipr_ref_use use)
{
	switch (use) {
	case IPR_REF_NULL:
		return "reference 0 is the null reference";
	case IPR_REF_RESERVED:
		return "references 0-1023 are reserved";
	case IPR_REF_DYNAMIC:
		return "the reference is in the dynamic range";
	case IPR_REF_PUBLISHABLE:
		break;
	}
	return NULL;
}
