/* Hex and address helpers for the dataplane's vector tests. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vectors_util.h"

size_t vec_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strcspn(hex, " ") / 2;

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned byte;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
		out[i] = (uint8_t)byte;
	}
	return n;
}

struct dp_wire_addr vec_addr(const char *text)
{
	struct dp_wire_addr a = { 0 };

	if (!text)
		return a;
	if (inet_pton(AF_INET, text, a.bytes) == 1)
		a.ver = 4;
	else if (inet_pton(AF_INET6, text, a.bytes) == 1)
		a.ver = 6;
	else
		fail_msg("bad address %s", text);
	return a;
}

void vec_assert_bytes(const char *name, const uint8_t *got, size_t n, const char *want_hex,
		      size_t want_len)
{
	uint8_t want[VEC_BUF];
	char text[2 * VEC_BUF + 1] = "";

	assert_int_equal(vec_unhex(want_hex, want, sizeof(want)), want_len);
	if (n == want_len && memcmp(got, want, n) == 0)
		return;
	for (size_t i = 0; i < n && i < VEC_BUF; i++)
		snprintf(text + 2 * i, 3, "%02x", got[i]);
	fail_msg("%s:\n got  %s\n want %.*s", name, text, (int)(2 * want_len), want_hex);
}
