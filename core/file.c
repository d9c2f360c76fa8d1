/* Whole text files read safely: regular, bounded, free of binary bytes, and still while read. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int refuse(struct ipr_file_err *err, int code)
{
	err->code = code;
	return -code;
}

/* What tells a rewritten file from the one we started reading. */
static bool same_state(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static bool is_binary(unsigned char c)
{
	return c < 0x20 && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r';
}

int ipr_file_check_text(const char *text, size_t len, struct ipr_file_err *err)
{
	const char *line = text;
	unsigned number = 1;

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n') {
			number++;
			line = text + i + 1;
		} else if (is_binary((unsigned char)text[i])) {
			err->line = number;
			err->column = (size_t)(text + i - line) + 1;
			err->byte = (unsigned char)text[i];
			return refuse(err, EILSEQ);
		}
	}
	return 0;
}

/*
 * How long (ns) the file must still be left alone before it is read: a file modified less
 * than IPR_FILE_QUIET_MS ago may be in the middle of a rewrite in place (truncated, then
 * written in pieces) and hold still for a moment half-written. 0 when it is old enough, or
 * when its time is ahead of our clock and cannot be judged.
 */
static int64_t quiet_wait_ns(const struct stat *st)
{
	const int64_t quiet = (int64_t)IPR_FILE_QUIET_MS * 1000000;
	struct timespec now;
	int64_t age;

	clock_gettime(CLOCK_REALTIME, &now);
	age = ((int64_t)now.tv_sec - (int64_t)st->st_mtim.tv_sec) * 1000000000 +
	      (now.tv_nsec - st->st_mtim.tv_nsec);
	return age >= 0 && age < quiet ? quiet - age : 0;
}

/*
 * One attempt: 0, -EAGAIN when the file is too fresh (*wait_ns set) or moved under us, or
 * another -errno.
 */
static int read_once(int fd, size_t max, struct ipr_file *out, struct ipr_file_err *err,
		     int64_t *wait_ns)
{
	struct stat before, after;
	size_t cap, len = 0;
	char *buf = NULL;
	int rc = 0;

	if (fstat(fd, &before) < 0)
		return refuse(err, errno);
	if (S_ISDIR(before.st_mode))
		return refuse(err, EISDIR);
	if (!S_ISREG(before.st_mode))
		return refuse(err, EINVAL);
	if (before.st_size < 0 || (uint64_t)before.st_size > max) {
		err->limit = max;
		return refuse(err, EFBIG);
	}
	*wait_ns = quiet_wait_ns(&before);
	if (*wait_ns > 0)
		return -EAGAIN;
	/* one byte more than the size shows growth without a second read, and holds the NUL */
	cap = (size_t)before.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf)
		return refuse(err, ENOMEM);
	while (len < cap) {
		ssize_t n = pread(fd, buf + len, cap - len, (off_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = refuse(err, errno);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (fstat(fd, &after) < 0) {
		rc = refuse(err, errno);
		goto out;
	}
	if (len != (size_t)before.st_size || !same_state(&before, &after)) {
		rc = -EAGAIN;
		goto out;
	}
	buf[len] = '\0';
	*out = (struct ipr_file){ buf, len, before.st_dev, before.st_ino };
	buf = NULL;
out:
	free(buf);
	return rc;
}

int ipr_file_read(const char *path, size_t max, struct ipr_file *out, struct ipr_file_err *err)
{
	int fd, rc = 0;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	/* O_NONBLOCK: opening a FIFO must not wait for a writer before fstat refuses it */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return refuse(err, errno);
	for (int attempt = 0; attempt < IPR_FILE_TRIES; attempt++) {
		int64_t wait_ns = 0;

		rc = read_once(fd, max, out, err, &wait_ns);
		if (rc != -EAGAIN || attempt + 1 == IPR_FILE_TRIES)
			break;
		/* until the file has been quiet long enough, or a moment after it moved */
		struct timespec pause = { 0, wait_ns ? (long)wait_ns : 1000000L << attempt };
		nanosleep(&pause, NULL);
	}
	if (rc == -EAGAIN)
		rc = refuse(err, EAGAIN);
	if (rc == 0 && (rc = ipr_file_check_text(out->text, out->len, err)) < 0)
		ipr_file_release(out);
	close(fd);
	return rc;
}

void ipr_file_release(struct ipr_file *out)
{
	free(out->text);
	memset(out, 0, sizeof(*out));
}

const char *ipr_file_reason(const struct ipr_file_err *err, char *buf, size_t size)
{
	const char *text;

	switch (err->code) {
	case EINVAL:
		return "not a regular file";
	case EFBIG:
		snprintf(buf, size, "larger than %zu bytes", err->limit);
		return buf;
	case EILSEQ:
		if (err->byte == 0)
			return "NUL byte: binary content is refused";
		snprintf(buf, size, "control character 0x%02x: binary content is refused",
			 err->byte);
		return buf;
	case EAGAIN:
		return "changed while being read, every time it was tried";
	default:
		text = strerrordesc_np(err->code);
		return text ? text : "cannot be read";
	}
}

int ipr_file_error_format(const char *path, const struct ipr_file_err *err, char *buf, size_t size)
{
	char reason[64];
	const char *why = ipr_file_reason(err, reason, sizeof(reason));

	if (err->line)
		return snprintf(buf, size, "%s:%u:%zu: %s", path, err->line, err->column, why);
	return snprintf(buf, size, "%s: %s", path, why);
}
