/* Golden vectors are hex strings: the tests' one decoder (include after cmocka.h). */
#ifndef DP_TESTS_HEX_H
#define DP_TESTS_HEX_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static inline size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned byte;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
		out[i] = (uint8_t)byte;
	}
	return n;
}

#endif
