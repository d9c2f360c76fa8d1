/* Unit tests of the settings dispatcher: every kind, lists, repeats, refusals, table checks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_table.h"

struct demo {
	uint8_t small;
	uint16_t port;
	uint32_t count;
	uint64_t big;
	uint32_t secs;
	char path[16];
	char name[9];
	int level;
	bool on;
	size_t item_count;
	char items[3][8];
	uint64_t seen;
};

/* A custom parser that checks against what the list already holds. */
static int parse_item(void *out, const char *v, size_t n, const void *target, struct ipr_err *err)
{
	const struct demo *d = target;

	if (n >= 8)
		return ipr_fail(err, ERANGE, 8, "item too long");
	for (size_t i = 0; i < d->item_count; i++)
		if (strlen(d->items[i]) == n && memcmp(d->items[i], v, n) == 0)
			return ipr_fail(err, EINVAL, 0, "item given twice");
	memcpy(out, v, n);
	return 0;
}

static const char *const levels[] = { "low", "mid", "high", NULL };
static const char *const auto_off[] = { "off", "auto", NULL };

#define F(f) IPR_SETTING_FIELD(struct demo, f)

static const struct ipr_setting rows[] = {
	{ "small", IPR_SETTING_UINT, F(small), .min = 0, .max = 255 },
	{ "port", IPR_SETTING_UINT, F(port), .min = 1, .max = 65535,
	  .reason = "must be 1 to 65535" },
	{ "count", IPR_SETTING_UINT, F(count), .min = 2, .max = 4096 },
	{ "big", IPR_SETTING_UINT, F(big), .max = UINT64_C(1) << 60 },
	{ "secs", IPR_SETTING_DURATION, F(secs), .max = 86400, .reason = "longer than a day" },
	{ "path", IPR_SETTING_PATH, F(path), .reason = "path too long" },
	{ "name", IPR_SETTING_NAME, IPR_SETTING_EMPTY_OK, F(name), .reason = "name too long" },
	{ "level", IPR_SETTING_ENUM, F(level), .words = levels, .reason = "low, mid or high" },
	{ "on", IPR_SETTING_ENUM, F(on), .words = auto_off, .reason = "auto or off" },
	{ "item", IPR_SETTING_CUSTOM, IPR_SETTING_LIST(struct demo, items, item_count),
	  .parse = parse_item, .list_full = "more than 3 items" },
	{ "old-key", IPR_SETTING_REFUSED, .reason = "old-key is gone: write item instead" },
};

static const struct ipr_settings table = { rows, sizeof(rows) / sizeof(rows[0]),
					   offsetof(struct demo, seen) };

static int parse(struct demo *d, const char *line, struct ipr_err *err)
{
	return ipr_settings_parse_line(&table, d, line, strlen(line), err);
}

static void test_table_is_well_formed(void **state)
{
	struct ipr_err err = { 0 };

	(void)state;
	assert_int_equal(ipr_settings_check(&table, &err), 0);
}

static void test_each_kind(void **state)
{
	struct demo d;
	struct ipr_err err = { 0 };

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_int_equal(parse(&d, "small = 255", &err), 0);
	assert_int_equal(parse(&d, "port=1045 # a comment", &err), 0);
	assert_int_equal(parse(&d, "count = 4096", &err), 0);
	assert_int_equal(parse(&d, "big = 1152921504606846976", &err), 0);
	assert_int_equal(parse(&d, "secs = 2h", &err), 0);
	assert_int_equal(parse(&d, "path = /a/b", &err), 0);
	assert_int_equal(parse(&d, "name = ipref", &err), 0);
	assert_int_equal(parse(&d, "level = high", &err), 0);
	assert_int_equal(parse(&d, "on = auto", &err), 0);
	assert_int_equal(parse(&d, "item = x", &err), 0);
	assert_int_equal(parse(&d, "item = y", &err), 0);
	assert_int_equal(parse(&d, "   # nothing", &err), 0);
	assert_int_equal(d.small, 255);
	assert_int_equal(d.port, 1045);
	assert_int_equal(d.count, 4096);
	assert_int_equal(d.big, UINT64_C(1) << 60);
	assert_int_equal(d.secs, 7200);
	assert_string_equal(d.path, "/a/b");
	assert_string_equal(d.name, "ipref");
	assert_int_equal(d.level, 2);
	assert_true(d.on);
	assert_int_equal(d.item_count, 2);
	assert_string_equal(d.items[0], "x");
	assert_string_equal(d.items[1], "y");
	/* one bit per row given, lists included */
	assert_int_equal(d.seen, (UINT64_C(1) << 10) - 1);

	/* an allowed empty value stores the empty string */
	memset(&d, 0, sizeof(d));
	strcpy(d.name, "before");
	assert_int_equal(parse(&d, "name =", &err), 0);
	assert_string_equal(d.name, "");
	assert_int_equal(parse(&d, "on = off", &err), 0);
	assert_false(d.on);
}

/* Each line fails over a zeroed struct with its code, column and reason, and changes nothing. */
static void test_refusals(void **state)
{
	static const struct {
		const char *line;
		int rc;
		size_t column;
		const char *reason;
	} cases[] = {
		{ "nothing = 1", -EINVAL, 1, "unknown key" },
		{ "old-key = 1", -EINVAL, 11, "old-key is gone: write item instead" },
		{ "old-key =", -EINVAL, 10, "old-key is gone: write item instead" },
		{ "port =", -EINVAL, 7, "missing value" },
		{ "small = 256", -ERANGE, 9, "number too large" },
		{ "count = 1", -ERANGE, 9, "number too small" },
		{ "port = 0", -ERANGE, 8, "must be 1 to 65535" },
		{ "port = 99999999999999999999", -ERANGE, 8, "must be 1 to 65535" },
		{ "port = 10x", -EINVAL, 10, "expected a decimal number" },
		{ "port = 01", -EINVAL, 8, "number with a leading zero" },
		{ "big = 1152921504606846977", -ERANGE, 7, "number too large" },
		{ "secs = 0", -ERANGE, 8, "duration must be more than 0" },
		{ "secs = 2d", -ERANGE, 8, "longer than a day" },
		{ "secs = 99999999999", -ERANGE, 8, "longer than a day" },
		{ "secs = 2w", -EINVAL, 9, "unknown duration unit (s, m, h or d)" },
		{ "secs = 2hh", -EINVAL, 10, "unexpected text after the duration unit" },
		{ "path = a/b", -EINVAL, 8, "must be an absolute path" },
		{ "path = /a/", -EINVAL, 10, "path names a directory (ends in '/')" },
		{ "path = /0123456789abcde", -ERANGE, 7 + 16, "path too long" },
		{ "name = 1x", -EINVAL, 8, "name must start with a letter or '_'" },
		{ "name = a:b", -EINVAL, 9, "unexpected character in a user or group name" },
		{ "name = abcdefghi", -ERANGE, 7 + 9, "name too long" },
		{ "level = top", -EINVAL, 9, "low, mid or high" },
		{ "level = lowx", -EINVAL, 9, "low, mid or high" },
		{ "on = on", -EINVAL, 6, "auto or off" },
		{ "item = 12345678", -ERANGE, 15, "item too long" },
		{ "Port = 1", -EINVAL, 1, "keys are lower-case letters, digits and dashes" },
		{ "port 1", -EINVAL, 6, "expected '=' after the key" },
		{ "port = 1\x01", -EINVAL, 9, "control character" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct demo d, before;
		struct ipr_err err = { 0 };
		int rc;

		memset(&d, 0x5a, sizeof(d));
		d.seen = 0;
		d.item_count = 0;
		memcpy(&before, &d, sizeof(d));
		rc = parse(&d, cases[i].line, &err);
		if (rc != cases[i].rc || err.column != cases[i].column || !err.reason ||
		    strcmp(err.reason, cases[i].reason) != 0)
			fail_msg("'%s': expected %d at %zu (%s), got %d at %zu (%s)", cases[i].line,
				 cases[i].rc, cases[i].column, cases[i].reason, rc, err.column,
				 err.reason ? err.reason : "no reason");
		assert_memory_equal(&d, &before, sizeof(d));
		/* the same without error details */
		assert_int_equal(parse(&d, cases[i].line, NULL), cases[i].rc);
	}
}

static void test_repeats_and_lists(void **state)
{
	struct demo d;
	struct ipr_err err = { 0 };

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_int_equal(parse(&d, "port = 1", &err), 0);
	assert_int_equal(parse(&d, "  port = 2", &err), -EINVAL);
	assert_string_equal(err.reason, "key given twice");
	assert_int_equal(err.column, 3);
	assert_int_equal(d.port, 1);
	/* a refused line of a key does not count as given */
	assert_int_equal(parse(&d, "count = 1", &err), -ERANGE);
	assert_int_equal(parse(&d, "count = 2", &err), 0);

	assert_int_equal(parse(&d, "item = a", &err), 0);
	assert_int_equal(parse(&d, "item = a", &err), -EINVAL);
	assert_string_equal(err.reason, "item given twice");
	assert_int_equal(err.column, 8);
	assert_int_equal(parse(&d, "item = b", &err), 0);
	assert_int_equal(parse(&d, "item = c", &err), 0);
	assert_int_equal(parse(&d, "item = d", &err), -EINVAL);
	assert_string_equal(err.reason, "more than 3 items");
	assert_int_equal(err.column, 8);
	assert_int_equal(d.item_count, 3);
	assert_string_equal(d.items[2], "c");
}

static void test_read_file(void **state)
{
	char path[] = "/tmp/test-conf-table-XXXXXX";
	int fd = mkstemp(path);
	struct demo d;
	char msg[256];
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# demo\nport = 7\n\nsecs = 1m\nport = 8\nnothing = 1\n", f);
	fclose(f);
	memset(&d, 0, sizeof(d));
	assert_int_equal(ipr_settings_read(&table, &d, path, msg, sizeof(msg)), -EINVAL);
	/* the first bad line is the one told */
	assert_non_null(strstr(msg, ":5:1: key given twice"));
	assert_int_equal(d.secs, 60);

	f = fopen(path, "w");
	fputs("port = 7\r\nitem = q", f);
	fclose(f);
	memset(&d, 0, sizeof(d));
	assert_int_equal(ipr_settings_read(&table, &d, path, msg, sizeof(msg)), 0);
	assert_int_equal(d.port, 7);
	assert_string_equal(d.items[0], "q");
	unlink(path);
	assert_int_equal(ipr_settings_read(&table, &d, path, msg, sizeof(msg)), -ENOENT);
}

/* Tables the dispatcher could not serve are refused by the check, naming the row. */
static void test_bad_tables(void **state)
{
	static const char *const none[] = { NULL };
	static const struct {
		struct ipr_setting row;
		const char *problem;
	} cases[] = {
		{ { "Bad", IPR_SETTING_UINT, F(count), .max = 9 },
		  "key not lower-case letters, digits and dashes" },
		{ { "x", IPR_SETTING_UINT, F(path), .max = 9 },
		  "integer field not of 1, 2, 4 or 8 bytes" },
		{ { "x", IPR_SETTING_UINT, F(small), .max = 256 },
		  "bounds outside the field or min above max" },
		{ { "x", IPR_SETTING_UINT, F(count), .min = 3, .max = 2 },
		  "bounds outside the field or min above max" },
		{ { "x", IPR_SETTING_UINT, F(big), .max = UINT64_MAX / 10 },
		  "bounds outside the field or min above max" },
		{ { "x", IPR_SETTING_UINT, IPR_SETTING_EMPTY_OK, F(count), .max = 9 },
		  "a number cannot be empty" },
		{ { "x", IPR_SETTING_ENUM, F(level), .words = none },
		  "enum without words or too many" },
		{ { "x", IPR_SETTING_CUSTOM, F(path) }, "custom row without a parser" },
		{ { "x", IPR_SETTING_REFUSED, .flags = 0 }, "refused key without its reason" },
		{ { "x", IPR_SETTING_PATH, .size = IPR_SETTING_VALUE_MAX + 1 },
		  "size 0 or above IPR_SETTING_VALUE_MAX" },
		{ { "x", IPR_SETTING_PATH, IPR_SETTING_LIST(struct demo, items, item_count) },
		  "list without its list_full reason" },
	};
	struct ipr_setting twice[2] = { rows[0], rows[0] };
	struct ipr_settings t = { twice, 2, offsetof(struct demo, seen) };
	struct ipr_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ipr_setting two[2] = { rows[1], cases[i].row };

		t.rows = two;
		assert_int_equal(ipr_settings_check(&t, &err), -EINVAL);
		if (err.column != 2 || strcmp(err.reason, cases[i].problem) != 0)
			fail_msg("case %zu: row %zu (%s)", i, err.column, err.reason);
	}
	t.rows = twice;
	assert_int_equal(ipr_settings_check(&t, &err), -EINVAL);
	assert_string_equal(err.reason, "key given twice in the table");
	t.count = IPR_SETTINGS_ROWS_MAX + 1;
	assert_int_equal(ipr_settings_check(&t, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_is_well_formed),
		cmocka_unit_test(test_each_kind),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_repeats_and_lists),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_bad_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
