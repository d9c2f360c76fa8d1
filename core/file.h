/* Whole text files read safely: regular, bounded, free of binary bytes, and still while read. */
#ifndef IPR_FILE_H
#define IPR_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* How often a file that changes while it is read is read again before giving up. */
#define IPR_FILE_TRIES 4
/* A file is read only once it has not been modified for this long (waited for, bounded). */
#define IPR_FILE_QUIET_MS 50

/* A file's bytes, NUL-terminated after len, and its identity (to find $INCLUDE loops). */
struct ipr_file {
	char *text;
	size_t len;
	dev_t dev;
	ino_t ino;
};

/* Why a file was refused: code is a positive errno; line is 0 when the whole file is at fault. */
struct ipr_file_err {
	int code;
	unsigned line;
	size_t column;
	size_t limit;	    /* the size limit, for EFBIG */
	unsigned char byte; /* the binary byte, for EILSEQ */
};

/*
 * Reads the file at path whole. Refused with -errno and err filled: what open or read refuse;
 * -EISDIR; -EINVAL for anything but a regular file (a FIFO or device could block or never
 * end); -EFBIG beyond max bytes; -EILSEQ for a NUL byte or another control character than
 * tab, LF, VT, FF and CR (binary content, at err's line and column); -EAGAIN when, on each of
 * IPR_FILE_TRIES tries, the file was modified less than IPR_FILE_QUIET_MS before (waited out
 * between tries) or its size, times or inode changed while it was read: a file rewritten in
 * place is taken neither half-read nor in a pause of its writer. On success out owns the text.
 */
IPR_MUST_CHECK int ipr_file_read(const char *path, size_t max, struct ipr_file *out,
				 struct ipr_file_err *err);

/* Frees what out holds; a zeroed struct is a no-op. */
void ipr_file_release(struct ipr_file *out);

/*
 * Checks text for binary content as ipr_file_read does: 0, or -EILSEQ with err's line and
 * column at the first offending byte.
 */
IPR_MUST_CHECK int ipr_file_check_text(const char *text, size_t len, struct ipr_file_err *err);

/* The reason in words ("NUL byte: binary content is refused", "larger than 1048576 bytes"). */
const char *ipr_file_reason(const struct ipr_file_err *err, char *buf, size_t size);

/* "PATH: reason" or "PATH:LINE:COLUMN: reason" into buf; returns what snprintf returns. */
int ipr_file_error_format(const char *path, const struct ipr_file_err *err, char *buf, size_t size);

#endif
