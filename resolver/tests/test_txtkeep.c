/* Unit tests of the module's table of TXT answers: keys, lifetimes, bounds and replacement. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "txtkeep.h"

#define RD 0x0100
#define CD 0x0010

/* "\2nN\4test\0": a distinct two-byte first label per n (n below 100) */
static size_t name_of(unsigned n, uint8_t *out)
{
	static const uint8_t tail[] = { 4, 't', 'e', 's', 't', 0 };

	out[0] = 2;
	out[1] = (uint8_t)('a' + n / 26 % 26);
	out[2] = (uint8_t)('a' + n % 26);
	memcpy(out + 3, tail, sizeof(tail));
	return 3 + sizeof(tail);
}

static struct txtkeep_answer answer_of(const char *text, struct synth_rdata *item, uint32_t ttl)
{
	*item = (struct synth_rdata){ (const uint8_t *)text, strlen(text) };
	return (struct txtkeep_answer){
		.security = 3, .ttl = ttl, .keep_secs = ttl, .items = item, .count = 1
	};
}

static void test_kept_and_found_without_regard_to_case(void **state)
{
	static const uint8_t upper[] = { 2, 'H', 'X', 4, 'T', 'e', 'S', 't', 0 };
	static const uint8_t lower[] = { 2, 'h', 'x', 4, 't', 'e', 's', 't', 0 };
	struct txtkeep k;
	struct synth_rdata item;
	struct txtkeep_answer a = answer_of("\x14"
					    "AA 198.51.100.1 + 7",
					    &item, 300),
			      got;

	(void)state;
	assert_int_equal(txtkeep_init(&k, 8, 65536), 0);
	assert_int_equal(txtkeep_put(&k, upper, sizeof(upper), RD, &a, 1000), 0);
	assert_int_equal(txtkeep_find(&k, lower, sizeof(lower), RD, 1000, 0, &got), 0);
	assert_int_equal(got.security, 3);
	assert_int_equal(got.count, 1);
	assert_int_equal(got.items[0].len, item.len);
	assert_memory_equal(got.items[0].data, item.data, item.len);
	/* a copy: the caller's buffer may go */
	assert_ptr_not_equal(got.items[0].data, item.data);
	/* the flags are part of the key: a CD question has answers of its own */
	assert_int_equal(txtkeep_find(&k, lower, sizeof(lower), RD | CD, 1000, 0, &got), -ENOENT);
	txtkeep_deinit(&k);
}

static void test_lifetime_and_ttl_left(void **state)
{
	struct txtkeep k;
	struct synth_rdata item;
	struct txtkeep_answer a = answer_of("x", &item, 300), got;
	uint8_t name[16];
	size_t len = name_of(1, name);

	(void)state;
	assert_int_equal(txtkeep_init(&k, 8, 65536), 0);
	a.keep_secs = 60; /* the message's TTL can be below the RRset's */
	assert_int_equal(txtkeep_put(&k, name, len, RD, &a, 1000), 0);
	assert_int_equal(txtkeep_find(&k, name, len, RD, 1059, 0, &got), 0);
	assert_int_equal(got.ttl, 300 - 59);
	assert_int_equal(got.keep_secs, 1);
	assert_int_equal(txtkeep_find(&k, name, len, RD, 1060, 0, &got), -ENOENT);
	/* kept before not_before (a prefetch that must see its own lookup's answer) */
	assert_int_equal(txtkeep_find(&k, name, len, RD, 1001, 1001, &got), -ENOENT);
	assert_int_equal(txtkeep_find(&k, name, len, RD, 1001, 1000, &got), 0);
	/* an answer that stands for no time is not kept, and hides the older one */
	a.keep_secs = 0;
	assert_int_equal(txtkeep_put(&k, name, len, RD, &a, 1002), 0);
	assert_int_equal(txtkeep_find(&k, name, len, RD, 1002, 0, &got), -ENOENT);
	txtkeep_deinit(&k);
}

static void test_no_records(void **state)
{
	struct txtkeep k;
	struct txtkeep_answer none = { .security = 1, .keep_secs = 60 }, got;
	uint8_t name[16];
	size_t len = name_of(2, name);

	(void)state;
	assert_int_equal(txtkeep_init(&k, 8, 65536), 0);
	assert_int_equal(txtkeep_put(&k, name, len, RD, &none, 5), 0);
	assert_int_equal(txtkeep_find(&k, name, len, RD, 5, 0, &got), 0);
	assert_int_equal(got.count, 0);
	assert_null(got.items);
	assert_int_equal(got.ttl, 0);
	txtkeep_deinit(&k);
}

static void test_newer_answer_replaces(void **state)
{
	struct txtkeep k;
	struct synth_rdata one, two;
	struct txtkeep_answer a = answer_of("one", &one, 300), b = answer_of("two!", &two, 300),
			      got;
	uint8_t name[16];
	size_t len = name_of(3, name);

	(void)state;
	assert_int_equal(txtkeep_init(&k, 4, 65536), 0);
	assert_int_equal(txtkeep_put(&k, name, len, RD, &a, 10), 0);
	assert_int_equal(txtkeep_put(&k, name, len, RD, &b, 11), 0);
	assert_int_equal(txtkeep_find(&k, name, len, RD, 11, 0, &got), 0);
	assert_int_equal(got.items[0].len, 4);
	assert_memory_equal(got.items[0].data, "two!", 4);
	/* the replaced one leaves in its turn; the newer one stays */
	for (unsigned n = 10; n < 13; n++) {
		uint8_t other[16];
		size_t olen = name_of(n, other);

		assert_int_equal(txtkeep_put(&k, other, olen, RD, &a, 12), 0);
	}
	assert_int_equal(k.count, 4);
	assert_int_equal(txtkeep_find(&k, name, len, RD, 12, 0, &got), 0);
	assert_memory_equal(got.items[0].data, "two!", 4);
	txtkeep_deinit(&k);
}

static void test_bounded_in_count_and_bytes(void **state)
{
	struct txtkeep k;
	struct synth_rdata item;
	char text[200];
	struct txtkeep_answer a, got;
	uint8_t name[16];
	size_t len;

	(void)state;
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	a = answer_of(text, &item, 300);
	assert_int_equal(txtkeep_init(&k, 16, 16 * 4096), 0);
	for (unsigned n = 0; n < 60; n++) {
		len = name_of(n, name);
		assert_int_equal(txtkeep_put(&k, name, len, RD, &a, 100), 0);
		assert_true(k.count <= 16);
		assert_true(k.bytes <= 16 * 4096);
	}
	/* the oldest left first: the last sixteen are there, the one before them is not */
	for (unsigned n = 44; n < 60; n++) {
		len = name_of(n, name);
		assert_int_equal(txtkeep_find(&k, name, len, RD, 100, 0, &got), 0);
	}
	len = name_of(43, name);
	assert_int_equal(txtkeep_find(&k, name, len, RD, 100, 0, &got), -ENOENT);
	txtkeep_deinit(&k);

	/* by bytes: entries of about 250 bytes in a table of 1,600 */
	assert_int_equal(txtkeep_init(&k, 64, 1600 * 16), 0);
	for (unsigned n = 0; n < 200; n++) {
		len = name_of(n, name);
		assert_int_equal(txtkeep_put(&k, name, len, RD, &a, 100), 0);
		assert_true(k.bytes <= 1600 * 16);
	}
	assert_true(k.count < 200 && k.count > 1);
	assert_true(txtkeep_memory(&k) >= k.bytes);
	txtkeep_deinit(&k);
}

static void test_refused(void **state)
{
	static uint8_t big[2000];
	struct txtkeep k;
	struct synth_rdata item = { big, sizeof(big) };
	struct txtkeep_answer a = { .keep_secs = 60, .items = &item, .count = 1 }, got;
	struct txtkeep_answer broken = { .keep_secs = 60, .items = NULL, .count = 2 };
	uint8_t name[300] = { 0 };
	size_t len = name_of(4, name);

	(void)state;
	assert_int_equal(txtkeep_init(&k, 0, 100), -EINVAL);
	assert_int_equal(txtkeep_init(&k, 4, 0), -EINVAL);
	assert_int_equal(txtkeep_init(&k, 4, 16 * 1024), 0);
	/* above a sixteenth of the table: left to Unbound's cache */
	assert_int_equal(txtkeep_put(&k, name, len, RD, &a, 1), -E2BIG);
	assert_int_equal(txtkeep_put(&k, name, len, RD, &broken, 1), -EINVAL);
	assert_int_equal(txtkeep_put(&k, name, 0, RD, &broken, 1), -EINVAL);
	assert_int_equal(txtkeep_put(&k, name, 256, RD, &a, 1), -EINVAL);
	assert_int_equal(txtkeep_find(&k, name, 256, RD, 1, 0, &got), -ENOENT);
	assert_int_equal(k.count, 0);
	txtkeep_deinit(&k);
	/* deinit twice, and on a table never made */
	txtkeep_deinit(&k);
	assert_int_equal(txtkeep_put(&k, name, len, RD, &a, 1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_and_found_without_regard_to_case),
		cmocka_unit_test(test_lifetime_and_ttl_left),
		cmocka_unit_test(test_no_records),
		cmocka_unit_test(test_newer_answer_replaces),
		cmocka_unit_test(test_bounded_in_count_and_bytes),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
