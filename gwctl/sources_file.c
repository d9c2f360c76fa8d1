/* Reading source files whole, bounded and only when regular, and digesting what was read. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sources_impl.h"

_Static_assert(SOURCES_DIGEST_BYTES == crypto_generichash_BYTES, "digest size");

int sources_read_file(const char *path, struct sources_input *in, char **owned)
{
	struct stat st;
	size_t cap, len = 0;
	char *buf = NULL;
	int fd, rc = 0;

	*owned = NULL;
	in->name = path;
	in->text = NULL;
	in->len = 0;
	in->read_errno = 0;
	in->dev = 0;
	in->ino = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL; /* a FIFO or device could block or never end */
		goto out;
	}
	if (st.st_size > (off_t)SOURCES_FILE_MAX) {
		rc = -EFBIG;
		goto out;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) { /* the file grew while we read it */
			char *p;
			if (cap > SOURCES_FILE_MAX) {
				rc = -EFBIG;
				goto out;
			}
			p = realloc(buf, cap * 2);
			if (!p) {
				rc = -ENOMEM;
				goto out;
			}
			buf = p;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > SOURCES_FILE_MAX) {
		rc = -EFBIG;
		goto out;
	}
	in->text = buf;
	in->len = len;
	in->dev = st.st_dev;
	in->ino = st.st_ino;
	*owned = buf;
	buf = NULL;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		in->read_errno = -rc;
	return rc;
}

const char *sources_read_error_text(int e)
{
	const char *text;

	switch (e) {
	case EINVAL:
		return "not a regular file";
	case EFBIG:
		return "larger than 16 MiB";
	default:
		text = strerrordesc_np(e);
		return text ? text : "cannot be read";
	}
}

void sources_digest_input(crypto_generichash_state *state, const struct sources_input *in)
{
	uint8_t header[9];
	uint64_t value = in->text ? (uint64_t)in->len : (uint64_t)in->read_errno;

	/* name, NUL, a tag and a length (or errno): no two sequences of files share a stream */
	crypto_generichash_update(state, (const uint8_t *)in->name, strlen(in->name) + 1);
	header[0] = in->text ? 'F' : 'E';
	for (int i = 0; i < 8; i++)
		header[1 + i] = (uint8_t)(value >> (8 * (7 - i)));
	crypto_generichash_update(state, header, sizeof(header));
	if (in->text && in->len)
		crypto_generichash_update(state, (const uint8_t *)in->text, in->len);
}
