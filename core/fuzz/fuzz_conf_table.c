/* Fuzzes the settings dispatcher over a table of every kind: a line is applied whole or refused
 * untouched with a reason and a column in it, and what is applied stays in its row's bounds. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "conf_table.h"
#include "fuzz.h"

struct demo {
	uint8_t small;
	uint16_t port;
	uint64_t big;
	uint32_t secs;
	char path[16];
	char name[9];
	int level;
	bool on;
	size_t item_count;
	char items[3][4];
	uint64_t seen;
};

static int parse_item(void *out, const char *v, size_t n, const void *target, struct ipr_err *err)
{
	const struct demo *d = target;

	if (n >= 4)
		return ipr_fail(err, ERANGE, 4, "item too long");
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
	{ "small", IPR_SETTING_UINT, F(small), .min = 3, .max = 255 },
	{ "port", IPR_SETTING_UINT, F(port), .min = 1, .max = 65535, .reason = "1 to 65535" },
	{ "big", IPR_SETTING_UINT, F(big), .max = UINT64_C(1) << 60 },
	{ "secs", IPR_SETTING_DURATION, F(secs), .max = 86400, .reason = "longer than a day" },
	{ "path", IPR_SETTING_PATH, F(path), .reason = "path too long" },
	{ "name", IPR_SETTING_NAME, IPR_SETTING_EMPTY_OK, F(name), .reason = "name too long" },
	{ "level", IPR_SETTING_ENUM, F(level), .words = levels, .reason = "low, mid or high" },
	{ "on", IPR_SETTING_ENUM, F(on), .words = auto_off, .reason = "auto or off" },
	{ "item", IPR_SETTING_CUSTOM, IPR_SETTING_LIST(struct demo, items, item_count),
	  .parse = parse_item, .list_full = "more than 3 items" },
	{ "old", IPR_SETTING_REFUSED, .reason = "old is gone" },
};

static const struct ipr_settings table = { rows, sizeof(rows) / sizeof(rows[0]),
					   offsetof(struct demo, seen) };

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_demo(const struct demo *d)
{
	FUZZ_CHECK(d->small == 0 || d->small >= 3);
	FUZZ_CHECK(d->big <= UINT64_C(1) << 60);
	FUZZ_CHECK(d->secs <= 86400);
	FUZZ_CHECK(terminated(d->path, sizeof(d->path)));
	FUZZ_CHECK(d->path[0] == '\0' || d->path[0] == '/');
	FUZZ_CHECK(terminated(d->name, sizeof(d->name)));
	FUZZ_CHECK(d->level >= 0 && d->level <= 2);
	FUZZ_CHECK(d->item_count <= 3);
	for (size_t i = 0; i < d->item_count; i++)
		FUZZ_CHECK(terminated(d->items[i], sizeof(d->items[i])));
	FUZZ_CHECK(d->seen < UINT64_C(1) << table.count);
	FUZZ_CHECK(!(d->seen & (UINT64_C(1) << (table.count - 1)))); /* the refused key */
}

static void parse_one(struct demo *d, const char *line, size_t len)
{
	struct demo before;
	struct ipr_err err = { 0 };
	int rc;

	memcpy(&before, d, sizeof(before));
	rc = ipr_settings_parse_line(&table, d, line, len, &err);
	if (rc < 0) {
		FUZZ_CHECK(rc == -EINVAL || rc == -ERANGE);
		FUZZ_CHECK(err.reason != NULL && err.reason[0] != '\0');
		FUZZ_CHECK(err.column >= 1 && err.column <= len + 1);
		FUZZ_CHECK(memcmp(&before, d, sizeof(before)) == 0);
		FUZZ_CHECK(ipr_settings_parse_line(&table, d, line, len, NULL) == rc);
		return;
	}
	FUZZ_CHECK(rc == 0);
	/* at most one bit more: the key just given */
	FUZZ_CHECK((d->seen & before.seen) == before.seen);
	FUZZ_CHECK(__builtin_popcountll(d->seen) <= __builtin_popcountll(before.seen) + 1);
	check_demo(d);
}

/* The input line by line, as the file reader cuts it, then as one line. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct demo d;
	size_t start = 0;

	FUZZ_CHECK(ipr_settings_check(&table, NULL) == 0);
	memset(&d, 0, sizeof(d));
	while (start < size) {
		const char *nl = memchr(text + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - text) - start : size - start;

		parse_one(&d, text + start, len);
		start += len + 1;
	}
	memset(&d, 0, sizeof(d));
	parse_one(&d, text, size);
	return 0;
}
