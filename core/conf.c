/* Settings files: one `key = value` line at a time, with exact error columns. */
#include "conf.h"
#include "file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c) || c == '-';
}

static bool is_control(char c)
{
	unsigned char u = (unsigned char)c;

	return (u < 0x20 && c != '\t') || u == 0x7f;
}

static size_t skip_blanks(const char *line, size_t i, size_t end)
{
	while (i < end && is_blank(line[i]))
		i++;
	return i;
}

int ipr_conf_split(const char *line, size_t len, struct ipr_conf_line *out, struct ipr_err *err)
{
	const char *hash;
	size_t start, end, key_end, eq, value;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	for (size_t i = 0; i < len; i++)
		if (is_control(line[i]))
			return ipr_fail(err, EINVAL, i + 1, "control character");

	hash = memchr(line, '#', len);
	end = hash ? (size_t)(hash - line) : len;
	start = skip_blanks(line, 0, end);
	while (end > start && is_blank(line[end - 1]))
		end--;
	if (start == end)
		return 0;

	key_end = start;
	while (key_end < end && !is_blank(line[key_end]) && line[key_end] != '=')
		key_end++;
	if (key_end == start)
		return ipr_fail(err, EINVAL, start + 1, "missing key before '='");
	for (size_t i = start; i < key_end; i++)
		if (!is_key_char(line[i]))
			return ipr_fail(err, EINVAL, i + 1,
					"keys are lower-case letters, digits and dashes");
	eq = skip_blanks(line, key_end, end);
	if (eq == end || line[eq] != '=')
		return ipr_fail(err, EINVAL, eq + 1, "expected '=' after the key");
	value = skip_blanks(line, eq + 1, end);
	*out = (struct ipr_conf_line){ start, key_end - start, value, end - value };
	return 1;
}

int ipr_conf_number(const char *v, size_t n, size_t *i, uint64_t max, uint64_t *out,
		    struct ipr_err *err)
{
	size_t start = *i;
	uint64_t value = 0;

	if (start >= n || !is_digit(v[start]))
		return ipr_fail(err, EINVAL, start + 1, "expected a decimal number");
	if (v[start] == '0' && start + 1 < n && is_digit(v[start + 1]))
		return ipr_fail(err, EINVAL, start + 1, "number with a leading zero");
	/* stopping as soon as the value passes max (far below UINT64_MAX / 10) rules out overflow
	 */
	for (; *i < n && is_digit(v[*i]); (*i)++) {
		value = value * 10 + (uint64_t)(v[*i] - '0');
		if (value > max)
			return ipr_fail(err, ERANGE, start + 1, "number too large");
	}
	*out = value;
	return 0;
}

int ipr_conf_uint(const char *v, size_t n, uint64_t max, uint64_t *out, struct ipr_err *err)
{
	size_t i = 0;
	int rc = ipr_conf_number(v, n, &i, max, out, err);

	if (rc == 0 && i != n)
		return ipr_fail(err, EINVAL, i + 1, "expected a decimal number");
	return rc;
}

static void line_error(char *msg, size_t msg_size, const char *path, size_t line,
		       const struct ipr_err *err)
{
	if (msg && msg_size)
		snprintf(msg, msg_size, "%s:%zu:%zu: %s", path, line, err->column,
			 err->reason ? err->reason : "invalid line");
}

int ipr_conf_read(const char *path,
		  int (*parse)(void *ctx, const char *line, size_t len, struct ipr_err *err),
		  void *ctx, char *msg, size_t msg_size)
{
	static const struct ipr_err too_long = { "line too long", IPR_CONF_LINE_MAX + 1 };
	struct ipr_file_err ferr;
	struct ipr_file file;
	size_t line = 0, start = 0;
	int rc = ipr_file_read(path, IPR_CONF_FILE_MAX, &file, &ferr);

	if (rc < 0) {
		if (msg && msg_size)
			ipr_file_error_format(path, &ferr, msg, msg_size);
		return rc;
	}
	while (start < file.len) {
		const char *nl = memchr(file.text + start, '\n', file.len - start);
		size_t end = nl ? (size_t)(nl - file.text) : file.len;
		struct ipr_err err = { 0 };
		int one;

		line++;
		if (end - start > IPR_CONF_LINE_MAX) {
			one = -EINVAL;
			err = too_long;
		} else {
			one = parse(ctx, file.text + start, end - start, &err);
		}
		if (one < 0 &&
		    rc == 0) { /* every line is read, the first error is the one reported */
			rc = one;
			line_error(msg, msg_size, path, line, &err);
		}
		start = end + 1;
	}
	ipr_file_release(&file);
	return rc < 0 ? rc : 0;
}
