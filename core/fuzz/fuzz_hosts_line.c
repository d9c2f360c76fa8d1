/* Fuzzes hosts-line parsing: results stay inside the line and mapping lines are complete. */
#include <sys/socket.h>

#include "fuzz.h"
#include "hosts_line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipr_hosts_line entry;
	struct ipr_err err = { 0 };

	if (ipr_hosts_line_parse((const char *)data, size, &entry, &err) < 0) {
		FUZZ_CHECK(err.reason != NULL);
		FUZZ_CHECK(err.column <= size + 1);
		return 0;
	}
	if (entry.kind == IPR_HOSTS_NONE)
		return 0;
	FUZZ_CHECK(entry.family == AF_INET || entry.family == AF_INET6);
	FUZZ_CHECK(entry.name_count <= IPR_HOSTS_MAX_NAMES);
	for (size_t i = 0; i < entry.name_count; i++) {
		FUZZ_CHECK(entry.names[i].len > 0);
		FUZZ_CHECK(entry.names[i].offset + entry.names[i].len <= size);
	}
	if (entry.kind == IPR_HOSTS_EXTERNAL)
		FUZZ_CHECK(entry.has_context);
	if (entry.kind != IPR_HOSTS_LOCAL)
		FUZZ_CHECK(!ipr_ref_is_null(&entry.addr.ref));
	return 0;
}
