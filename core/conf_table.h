/* The settings table: one dispatcher for the settings files of gwctld, the dataplane and the
 * module. */
#ifndef IPR_CONF_TABLE_H
#define IPR_CONF_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Largest value (or list element) a setting may have: the dispatcher parses into a scratch
 * value of the setting's size on its stack, so that a bad line leaves the target untouched. */
#define IPR_SETTING_VALUE_MAX 8192

/* Rows a table may have: one bit each in the target's uint64_t of keys seen. */
#define IPR_SETTINGS_ROWS_MAX 64

enum ipr_setting_kind {
	/* A decimal number from min to max, stored as an unsigned integer of the field's size
	 * (1, 2, 4 or 8 bytes). Out of bounds: ERANGE at the value with reason, or without one
	 * "number too large" / "number too small". */
	IPR_SETTING_UINT,
	/* Whole seconds from 1 to max with an optional unit s, m, h or d; reason is the one for
	 * a duration longer than max. Stored as UINT is. */
	IPR_SETTING_DURATION,
	/* An absolute path not ending in '/', NUL-terminated in the field; reason is the one for
	 * a path that does not fit (ERANGE at the column past the room). */
	IPR_SETTING_PATH,
	/* A user or group name as the shadow tools allow it, NUL-terminated in the field; reason
	 * is the one for a name that does not fit. */
	IPR_SETTING_NAME,
	/* One of words (NULL-terminated), stored as its index like UINT; reason when none
	 * matches. Two words into a bool make a switch ("off", "auto"). */
	IPR_SETTING_ENUM,
	/* Parsed by the row's parse callback. */
	IPR_SETTING_CUSTOM,
	/* A key no longer read: always refused with reason, which says what to write instead. */
	IPR_SETTING_REFUSED,
};

/* The row may be given with nothing after '=' (it then stores the kind's empty value). */
#define IPR_SETTING_EMPTY_OK 0x1u

/*
 * A custom parser: v[0..n) is the value without blanks or comment, out the setting's zeroed
 * scratch value (row->size bytes), target the whole settings struct as it stands, to check
 * against values already there (read only). Columns count from 1 at v[0]; 0 blames the value
 * as a whole. Returns 0 or -EINVAL / -ERANGE through ipr_fail.
 */
typedef int ipr_setting_parse_fn(void *out, const char *v, size_t n, const void *target,
				 struct ipr_err *err);

struct ipr_setting {
	const char *key;
	enum ipr_setting_kind kind;
	unsigned flags;	   /* IPR_SETTING_EMPTY_OK */
	size_t offset;	   /* of the field (a list's first element) in the target */
	size_t size;	   /* of the field (of one element) */
	uint64_t min, max; /* UINT and DURATION bounds */
	const char *reason;
	const char *const *words;    /* ENUM */
	ipr_setting_parse_fn *parse; /* CUSTOM */
	/* A list: the key may repeat, each line adding an element up to list_max; list_full is
	 * the reason when it is full. count_offset locates the size_t count of elements held. */
	size_t list_max;
	size_t count_offset;
	const char *list_full;
};

/* The field's offset and size, for a row of a table over `type`. */
#define IPR_SETTING_FIELD(type, field) \
	.offset = offsetof(type, field), .size = sizeof(((type *)0)->field)

/* A repeatable key filling array[] (its count in count), for a row of a table over `type`. */
#define IPR_SETTING_LIST(type, array, count)                                    \
	.offset = offsetof(type, array), .size = sizeof(((type *)0)->array[0]), \
	.list_max = sizeof(((type *)0)->array) / sizeof(((type *)0)->array[0]), \
	.count_offset = offsetof(type, count)

struct ipr_settings {
	const struct ipr_setting *rows;
	size_t count;
	/* the target's uint64_t with one bit per row given, so that a second one is refused */
	size_t seen_offset;
};

/*
 * Checks a table as the dispatcher needs it (keys well-formed and unique, sizes that fit,
 * what each kind needs present): 0, or -EINVAL with what is wrong in err->reason and the
 * 1-based row in err->column. Each table's unit test runs it.
 */
IPR_MUST_CHECK int ipr_settings_check(const struct ipr_settings *table, struct ipr_err *err);

/*
 * One line of a settings file into target: blank and comment lines change nothing; a setting
 * changes its field (and its bit in seen) only if the whole line is good. Unknown keys,
 * refused keys, a second occurrence of a key that is not a list, a missing value, a full list
 * and bad values are errors. Returns 0, or -EINVAL / -ERANGE with the column in the line.
 */
IPR_MUST_CHECK int ipr_settings_parse_line(const struct ipr_settings *table, void *target,
					   const char *line, size_t len, struct ipr_err *err);

/*
 * Every line of the file at path into target, through ipr_conf_read (so msg gets
 * "PATH:LINE:COLUMN: reason" for the first bad line). Lines after a bad one are still
 * checked but target is left partly set: read into a fresh struct and keep it on 0.
 */
IPR_MUST_CHECK int ipr_settings_read(const struct ipr_settings *table, void *target,
				     const char *path, char *msg, size_t msg_size);

/* The parsers behind the kinds, for custom parsers made of them; columns as in the callback. */
IPR_MUST_CHECK int ipr_setting_path(const char *v, size_t n, char *out, size_t size,
				    const char *too_long, struct ipr_err *err);
IPR_MUST_CHECK int ipr_setting_uint(const char *v, size_t n, uint64_t min, uint64_t max,
				    const char *range, uint64_t *out, struct ipr_err *err);

#endif
