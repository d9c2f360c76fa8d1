/* Shared by the dataplane's vector tests: hex in and out, addresses from text. */
#ifndef DP_TESTS_VECTORS_UTIL_H
#define DP_TESTS_VECTORS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define VEC_BUF 2048

/* Hex text (whole, or up to the first space) into bytes; fails the test if it overflows. */
size_t vec_unhex(const char *hex, uint8_t *out, size_t cap);
/* An IPv4 or IPv6 address; NULL gives ver 0. */
struct dp_wire_addr vec_addr(const char *text);
/* Fails the test naming the vector unless got/n equals want_len bytes of want_hex. */
void vec_assert_bytes(const char *name, const uint8_t *got, size_t n, const char *want_hex,
		      size_t want_len);

#endif
