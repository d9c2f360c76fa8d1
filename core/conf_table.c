/* The settings dispatcher: a key looked up in a table, its value parsed by kind into the field. */
#include "conf_table.h"

#include <errno.h>
#include <string.h>

#include "conf.h"

/* What a field of 1, 2, 4 or 8 bytes holds: the integer kinds store through this. */
static void store_uint(void *field, size_t size, uint64_t value)
{
	uint8_t u8 = (uint8_t)value;
	uint16_t u16 = (uint16_t)value;
	uint32_t u32 = (uint32_t)value;

	switch (size) {
	case 1:
		memcpy(field, &u8, 1);
		break;
	case 2:
		memcpy(field, &u16, 2);
		break;
	case 4:
		memcpy(field, &u32, 4);
		break;
	default:
		memcpy(field, &value, 8);
		break;
	}
}

int ipr_setting_uint(const char *v, size_t n, uint64_t min, uint64_t max, const char *range,
		     uint64_t *out, struct ipr_err *err)
{
	uint64_t value = 0;
	int rc = ipr_conf_uint(v, n, max, &value, err);

	/* with a range to quote, any number outside it gets that one reason */
	if (range && (rc == -ERANGE || (rc == 0 && value < min)))
		return ipr_fail(err, ERANGE, 1, range);
	if (rc < 0)
		return rc;
	if (value < min)
		return ipr_fail(err, ERANGE, 1, "number too small");
	*out = value;
	return 0;
}

/* A number with an optional unit s, m, h or d; no unit means seconds. */
static int parse_duration(const char *v, size_t n, uint64_t max, const char *too_long,
			  uint64_t *out, struct ipr_err *err)
{
	uint64_t value = 0, unit = 1;
	size_t i = 0;
	int rc = ipr_conf_number(v, n, &i, max, &value, err);

	if (rc == -ERANGE)
		return ipr_fail(err, ERANGE, 1, too_long);
	if (rc < 0)
		return rc;
	if (i < n) {
		switch (v[i]) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 60 * 60;
			break;
		case 'd':
			unit = 24 * 60 * 60;
			break;
		default:
			return ipr_fail(err, EINVAL, i + 1, "unknown duration unit (s, m, h or d)");
		}
		if (++i != n)
			return ipr_fail(err, EINVAL, i + 1,
					"unexpected text after the duration unit");
	}
	if (value == 0)
		return ipr_fail(err, ERANGE, 1, "duration must be more than 0");
	if (value > max / unit)
		return ipr_fail(err, ERANGE, 1, too_long);
	*out = value * unit;
	return 0;
}

int ipr_setting_path(const char *v, size_t n, char *out, size_t size, const char *too_long,
		     struct ipr_err *err)
{
	if (n == 0 || v[0] != '/')
		return ipr_fail(err, EINVAL, 1, "must be an absolute path");
	if (v[n - 1] == '/')
		return ipr_fail(err, EINVAL, n, "path names a directory (ends in '/')");
	if (n >= size)
		return ipr_fail(err, ERANGE, size, too_long);
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

/* User and group names as the shadow tools allow them: [A-Za-z_][A-Za-z0-9_.-]*[$]. */
static int parse_name(const char *v, size_t n, char *out, size_t size, const char *too_long,
		      struct ipr_err *err)
{
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
		bool later =
			(c >= '0' && c <= '9') || c == '.' || c == '-' || (c == '$' && i == n - 1);

		if (!letter && (i == 0 || !later))
			return ipr_fail(err, EINVAL, i + 1,
					i == 0 ? "name must start with a letter or '_'"
					       : "unexpected character in a user or group name");
	}
	if (n >= size)
		return ipr_fail(err, ERANGE, size, too_long);
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

static int parse_enum(const char *const *words, const char *v, size_t n, const char *unknown,
		      uint64_t *out, struct ipr_err *err)
{
	for (size_t i = 0; words[i]; i++) {
		if (strlen(words[i]) == n && memcmp(words[i], v, n) == 0) {
			*out = i;
			return 0;
		}
	}
	return ipr_fail(err, EINVAL, 1, unknown);
}

/* The value into out (the row's zeroed scratch), by the row's kind. */
static int parse_value(const struct ipr_setting *row, void *out, const char *v, size_t n,
		       const void *target, struct ipr_err *err)
{
	uint64_t value = 0;
	int rc;

	if (n == 0 && row->kind != IPR_SETTING_CUSTOM)
		return 0; /* allowed empty (IPR_SETTING_EMPTY_OK): the zeroed value, "" */
	switch (row->kind) {
	case IPR_SETTING_UINT:
		rc = ipr_setting_uint(v, n, row->min, row->max, row->reason, &value, err);
		break;
	case IPR_SETTING_DURATION:
		rc = parse_duration(v, n, row->max, row->reason ? row->reason : "duration too long",
				    &value, err);
		break;
	case IPR_SETTING_ENUM:
		rc = parse_enum(row->words, v, n, row->reason ? row->reason : "unknown value",
				&value, err);
		break;
	case IPR_SETTING_PATH:
		return ipr_setting_path(v, n, out, row->size,
					row->reason ? row->reason : "path too long", err);
	case IPR_SETTING_NAME:
		return parse_name(v, n, out, row->size, row->reason ? row->reason : "name too long",
				  err);
	case IPR_SETTING_CUSTOM:
		return row->parse(out, v, n, target, err);
	default:
		return ipr_fail(err, EINVAL, 0, row->reason ? row->reason : "key not read");
	}
	if (rc == 0)
		store_uint(out, row->size, value);
	return rc;
}

static size_t find_row(const struct ipr_settings *table, const char *key, size_t len)
{
	size_t k;

	for (k = 0; k < table->count; k++)
		if (strlen(table->rows[k].key) == len && memcmp(table->rows[k].key, key, len) == 0)
			break;
	return k;
}

int ipr_settings_parse_line(const struct ipr_settings *table, void *target, const char *line,
			    size_t len, struct ipr_err *err)
{
	/* the value is parsed here and copied into the target only when the line is good */
	_Alignas(max_align_t) unsigned char scratch[IPR_SETTING_VALUE_MAX];
	unsigned char *base = target;
	const struct ipr_setting *row;
	struct ipr_conf_line kv;
	uint64_t seen, bit;
	size_t k, count = 0, slot = 0;
	int rc = ipr_conf_split(line, len, &kv, err);

	if (rc <= 0)
		return rc;
	k = find_row(table, line + kv.key, kv.key_len);
	if (k == table->count)
		return ipr_fail(err, EINVAL, kv.key + 1, "unknown key");
	row = &table->rows[k];
	if (row->kind == IPR_SETTING_REFUSED)
		return ipr_fail(err, EINVAL, kv.value + 1, row->reason);
	memcpy(&seen, base + table->seen_offset, sizeof(seen));
	bit = UINT64_C(1) << k;
	if (row->list_max == 0 && (seen & bit))
		return ipr_fail(err, EINVAL, kv.key + 1, "key given twice");
	if (kv.value_len == 0 && !(row->flags & IPR_SETTING_EMPTY_OK))
		return ipr_fail(err, EINVAL, kv.value + 1, "missing value");
	if (row->list_max) {
		memcpy(&count, base + row->count_offset, sizeof(count));
		if (count >= row->list_max)
			return ipr_fail(err, EINVAL, kv.value + 1, row->list_full);
		slot = count;
	}
	if (row->size > sizeof(scratch)) /* a table ipr_settings_check would refuse */
		return ipr_fail(err, EINVAL, kv.key + 1, "setting too large to parse");

	memset(scratch, 0, row->size);
	rc = parse_value(row, scratch, line + kv.value, kv.value_len, target, err);
	if (rc < 0) {
		/* the parser counted from the value; the file's reader counts from the line */
		if (err)
			err->column = err->column ? err->column + kv.value : kv.value + 1;
		return rc;
	}
	memcpy(base + row->offset + slot * row->size, scratch, row->size);
	if (row->list_max) {
		count++;
		memcpy(base + row->count_offset, &count, sizeof(count));
	}
	seen |= bit;
	memcpy(base + table->seen_offset, &seen, sizeof(seen));
	return 0;
}

struct read_ctx {
	const struct ipr_settings *table;
	void *target;
};

static int read_line(void *ctx, const char *line, size_t len, struct ipr_err *err)
{
	struct read_ctx *c = ctx;

	return ipr_settings_parse_line(c->table, c->target, line, len, err);
}

int ipr_settings_read(const struct ipr_settings *table, void *target, const char *path, char *msg,
		      size_t msg_size)
{
	struct read_ctx ctx = { table, target };

	return ipr_conf_read(path, read_line, &ctx, msg, msg_size);
}

static bool key_ok(const char *key)
{
	if (!key || !key[0])
		return false;
	for (const char *c = key; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
			return false;
	return true;
}

static bool integer_size(size_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/* What is wrong with one row, or NULL. */
static const char *row_problem(const struct ipr_setting *row)
{
	uint64_t room;

	if (!key_ok(row->key))
		return "key not lower-case letters, digits and dashes";
	if (row->kind != IPR_SETTING_REFUSED &&
	    (row->size == 0 || row->size > IPR_SETTING_VALUE_MAX))
		return "size 0 or above IPR_SETTING_VALUE_MAX";
	if (row->list_max && !row->list_full)
		return "list without its list_full reason";
	switch (row->kind) {
	case IPR_SETTING_UINT:
	case IPR_SETTING_DURATION:
	case IPR_SETTING_ENUM:
		if (!integer_size(row->size))
			return "integer field not of 1, 2, 4 or 8 bytes";
		if (row->flags & IPR_SETTING_EMPTY_OK)
			return "a number cannot be empty";
		room = row->size == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * row->size)) - 1;
		if (row->kind == IPR_SETTING_ENUM) {
			size_t words = 0;

			while (row->words && row->words[words])
				words++;
			return words == 0 || words - 1 > room ? "enum without words or too many"
							      : NULL;
		}
		/* ipr_conf_number stops past max, which must leave it room to do so */
		if (row->max > room || row->max >= UINT64_MAX / 10 || row->min > row->max)
			return "bounds outside the field or min above max";
		return NULL;
	case IPR_SETTING_PATH:
	case IPR_SETTING_NAME:
		return row->size < 2 ? "no room for a character and its NUL" : NULL;
	case IPR_SETTING_CUSTOM:
		return row->parse ? NULL : "custom row without a parser";
	case IPR_SETTING_REFUSED:
		return row->reason ? NULL : "refused key without its reason";
	default:
		return "unknown kind";
	}
}

int ipr_settings_check(const struct ipr_settings *table, struct ipr_err *err)
{
	if (table->count > IPR_SETTINGS_ROWS_MAX)
		return ipr_fail(err, EINVAL, 0, "more rows than bits in seen");
	for (size_t k = 0; k < table->count; k++) {
		const char *problem = row_problem(&table->rows[k]);

		if (problem)
			return ipr_fail(err, EINVAL, k + 1, problem);
		for (size_t j = 0; j < k; j++)
			if (strcmp(table->rows[j].key, table->rows[k].key) == 0)
				return ipr_fail(err, EINVAL, k + 1, "key given twice in the table");
	}
	return 0;
}
