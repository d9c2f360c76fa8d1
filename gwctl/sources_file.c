/* Reading source files through core's safe reader, and digesting what was read. */
#include <stdint.h>
#include <string.h>

#include "file.h"
#include "sources_impl.h"

_Static_assert(SOURCES_DIGEST_BYTES == crypto_generichash_BYTES, "digest size");

int sources_read_file(const char *path, struct sources_input *in, char **owned)
{
	struct ipr_file file;
	int rc = ipr_file_read(path, SOURCES_FILE_MAX, &file, &in->read_err);

	*owned = NULL;
	in->name = path;
	in->text = NULL;
	in->len = 0;
	in->read_errno = rc < 0 ? -rc : 0;
	in->dev = 0;
	in->ino = 0;
	if (rc < 0)
		return rc;
	in->text = file.text;
	in->len = file.len;
	in->dev = file.dev;
	in->ino = file.ino;
	*owned = file.text;
	return 0;
}

const char *sources_read_error_text(const struct sources_input *in, char *buf, size_t size)
{
	return ipr_file_reason(&in->read_err, buf, size);
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
