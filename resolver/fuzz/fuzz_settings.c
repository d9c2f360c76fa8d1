/* Fuzzes the ipref module's settings lines: any line is applied whole or refused untouched. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resolver_settings s, before;
	struct ipr_err err = { 0 };
	size_t start = 0;

	settings_defaults(&s);
	/* every line of the input in turn, as the file reader gives them */
	while (start <= size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - data) - start : size - start;
		int rc;

		before = s;
		rc = settings_parse_line(&s, (const char *)data + start, len, &err);
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
		if (rc < 0) {
			FUZZ_CHECK(memcmp(&s, &before, sizeof(s)) == 0);
			FUZZ_CHECK(err.reason && err.column >= 1 && err.column <= len + 1);
		}
		FUZZ_CHECK(s.socket[0] == '/' && memchr(s.socket, '\0', sizeof(s.socket)));
		FUZZ_CHECK(s.timeout_ms >= 1 && s.timeout_ms <= SETTINGS_TIMEOUT_MAX);
		FUZZ_CHECK(s.holdoff_ms <= SETTINGS_HOLDOFF_MAX);
		FUZZ_CHECK(s.max_records >= 1 && s.max_records <= 8);
		FUZZ_CHECK(s.families <= (SETTINGS_FAMILY_V4 | SETTINGS_FAMILY_V6));
		if (!nl)
			break;
		start += len + 1;
	}
	return 0;
}
