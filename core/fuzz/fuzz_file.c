/* Fuzzes the safe file reader: any bytes as a file, read back whole or refused at the right byte.
 */
#include <errno.h>
#include <string.h>

#include "file.h"
#include "fuzz.h"

/* The first binary byte of data, or size when there is none, counted as the reader does. */
static size_t first_binary(const uint8_t *data, size_t size, unsigned *line, size_t *column)
{
	size_t start = 0;

	*line = 1;
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\n') {
			(*line)++;
			start = i + 1;
		} else if (data[i] < 0x20 && !memchr("\t\n\v\f\r", data[i], 5)) {
			/* memchr, not strchr: strchr finds a NUL byte as the string's own end */
			*column = i - start + 1;
			return i;
		}
	}
	return size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipr_file_err err;
	struct ipr_file file;
	char path[64], msg[256];
	size_t column = 0;
	unsigned line;
	size_t bad = first_binary(data, size, &line, &column);
	size_t max = size ? size - (data[0] & 1) : 0; /* the limit is sometimes one byte short */
	int rc;

	fuzz_as_file(data, size, path, sizeof(path));
	rc = ipr_file_read(path, max, &file, &err);
	ipr_file_error_format(path, &err, msg, sizeof(msg));
	if (max < size) {
		FUZZ_CHECK(rc == -EFBIG && err.limit == max && file.text == NULL);
		return 0;
	}
	if (bad < size) {
		FUZZ_CHECK(rc == -EILSEQ && err.line == line && err.column == column);
		FUZZ_CHECK(err.byte == data[bad] && file.text == NULL && strstr(msg, "binary"));
		return 0;
	}
	FUZZ_CHECK(rc == 0 && file.len == size && file.text[size] == '\0');
	FUZZ_CHECK(size == 0 || memcmp(file.text, data, size) == 0);
	FUZZ_CHECK(ipr_file_check_text(file.text, file.len, &err) == 0);
	ipr_file_release(&file);
	return 0;
}
