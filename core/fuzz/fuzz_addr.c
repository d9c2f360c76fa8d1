/* Fuzzes IPREF address parsing: failures are clean, successes print canonically and re-parse. */
#include <string.h>

#include "addr.h"
#include "context.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipr_addr addr, back;
	struct ipr_err err = { 0 };
	char text[IPR_ADDR_TEXT_MAX], again[IPR_ADDR_TEXT_MAX];
	size_t len;

	if (ipr_addr_parse((const char *)data, size, &addr, &err) < 0) {
		FUZZ_CHECK(err.reason != NULL);
		FUZZ_CHECK(err.column <= size + 1);
		return 0;
	}
	for (int style = IPR_REF_DECIMAL; style <= IPR_REF_HEX; style++) {
		len = ipr_addr_format(&addr, (enum ipr_ref_style)style, text);
		FUZZ_CHECK(len < IPR_ADDR_TEXT_MAX && len == strlen(text));
		FUZZ_CHECK(ipr_addr_parse(text, len, &back, NULL) == 0);
		FUZZ_CHECK(ipr_context_equal(&addr.context, &back.context));
		FUZZ_CHECK(ipr_ref_equal(&addr.ref, &back.ref));
		/* the canonical form is a fixed point */
		ipr_addr_format(&back, (enum ipr_ref_style)style, again);
		FUZZ_CHECK(strcmp(text, again) == 0);
	}

	/* the context rule: a mapped address leaves as IPv4, and a second look agrees */
	struct ipr_context context = addr.context;
	enum ipr_addr_use use = ipr_context_check(&context, NULL);
	FUZZ_CHECK(!ipr_context_unmap(&context));
	FUZZ_CHECK(ipr_context_check(&context, NULL) == use);
	FUZZ_CHECK((use == IPR_ADDR_USABLE) == (ipr_addr_use_text(use) == NULL));
	FUZZ_CHECK(use != IPR_ADDR_OWN && use != IPR_ADDR_ENCODED && use != IPR_ADDR_MAPPED);
	return 0;
}
