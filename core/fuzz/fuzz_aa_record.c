/* Fuzzes AA parsing from TXT RDATA, the form DNS answers deliver, and from joined text. */
#include <errno.h>
#include <string.h>

#include "aa_record.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipr_addr addr;
	struct ipr_err err = { 0 };
	int rc;

	rc = ipr_aa_parse_rdata(data, size, &addr, &err);
	FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL || rc == -ERANGE || rc == -EBADMSG);
	if (rc == 0)
		FUZZ_CHECK(!ipr_ref_is_null(&addr.ref));
	else
		FUZZ_CHECK(err.reason != NULL);

	rc = ipr_aa_parse_text((const char *)data, size, &addr, &err);
	FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL || rc == -ERANGE);
	if (rc == 0) {
		/* a valid AA text starts with "AA" and a blank, by definition */
		FUZZ_CHECK(size > 3 && data[0] == 'A' && data[1] == 'A');
		FUZZ_CHECK(data[2] == ' ' || data[2] == '\t');
	}
	return 0;
}
