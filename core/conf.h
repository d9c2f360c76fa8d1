/* Settings files of `key = value` lines, read alike by gwctld, the resolver module and the
 * dataplane. */
#ifndef IPR_CONF_H
#define IPR_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Longest line ipr_conf_read passes on, without its newline. */
#define IPR_CONF_LINE_MAX 8192

/* Largest settings file ipr_conf_read accepts. */
#define IPR_CONF_FILE_MAX (1024 * 1024)

/* One setting: the key and the value without blanks or comment, as offsets into the line. */
struct ipr_conf_line {
	size_t key, key_len;
	size_t value, value_len;
};

/*
 * Splits a line (a trailing "\n" or "\r\n" is ignored). '#' starts a comment anywhere, so no
 * value holds one; keys are lower-case letters, digits and dashes; control characters other
 * than tab are refused. Returns 1 for a setting, 0 for a blank or comment line, or -EINVAL
 * with err->column counted in the line. The value may be empty: the caller decides.
 */
IPR_MUST_CHECK int ipr_conf_split(const char *line, size_t len, struct ipr_conf_line *out,
				  struct ipr_err *err);

/*
 * Reads the decimal number at v[*i..n) into *out and advances *i past it. Leading zeros are
 * refused, so that nothing reads as octal; -ERANGE above max (max < UINT64_MAX / 10).
 */
IPR_MUST_CHECK int ipr_conf_number(const char *v, size_t n, size_t *i, uint64_t max, uint64_t *out,
				   struct ipr_err *err);

/*
 * The whole of v[0..n) as a decimal number, as ipr_conf_number reads it: -EINVAL with the
 * column of the first character that is not a digit, -ERANGE above max.
 */
IPR_MUST_CHECK int ipr_conf_uint(const char *v, size_t n, uint64_t max, uint64_t *out,
				 struct ipr_err *err);

/*
 * Calls parse(ctx, line, len, err) for each line of the file at path. Every line is read; the
 * first error is the result, described in msg as "PATH:LINE:COLUMN: reason" (or "PATH:
 * reason" when the file is refused as ipr_file_read refuses it: not regular, larger than
 * IPR_CONF_FILE_MAX, binary, or changing while read). Lines longer than IPR_CONF_LINE_MAX
 * are errors.
 */
IPR_MUST_CHECK int ipr_conf_read(const char *path,
				 int (*parse)(void *ctx, const char *line, size_t len,
					      struct ipr_err *err),
				 void *ctx, char *msg, size_t msg_size);

#endif
