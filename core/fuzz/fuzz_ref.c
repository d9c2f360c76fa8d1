/* Fuzzes reference parsing: any input either fails cleanly or round-trips through both forms. */
#include <string.h>

#include "fuzz.h"
#include "ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipr_ref ref, back;
	struct ipr_err err = { 0 };
	char text[IPR_REF_TEXT_MAX];

	if (ipr_ref_parse((const char *)data, size, &ref, &err) < 0) {
		FUZZ_CHECK(err.reason != NULL);
		FUZZ_CHECK(err.column <= size + 1);
		return 0;
	}
	FUZZ_CHECK(ipr_ref_format(&ref, text) < IPR_REF_TEXT_MAX);
	FUZZ_CHECK(ipr_ref_parse(text, strlen(text), &back, NULL) == 0);
	FUZZ_CHECK(ipr_ref_equal(&ref, &back));
	FUZZ_CHECK(ipr_ref_format_hex(&ref, text) < IPR_REF_TEXT_MAX);
	FUZZ_CHECK(ipr_ref_parse(text, strlen(text), &back, NULL) == 0);
	FUZZ_CHECK(ipr_ref_equal(&ref, &back));
	return 0;
}
