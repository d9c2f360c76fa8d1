/* Fuzzes control-message decoding the way gwctld and its clients read every message. */
#include <errno.h>
#include <string.h>

#include "ctl_msg.h"
#include "fuzz.h"
#include "mapping.h"

/* A decoded mapping, put back into a message, must decode to the same mapping. */
static void check_mapping_round_trip(const struct ipr_mapping *m)
{
	uint8_t buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_builder b;
	struct ipr_ctl_fields f;
	struct ipr_mapping back;
	size_t len;

	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_LOOKUP_EA | IPR_CTL_REPLY, 0, 1);
	ipr_mapping_put(&b, m);
	FUZZ_CHECK(ipr_ctl_finish(&b, &len) == 0);
	FUZZ_CHECK(ipr_ctl_fields_parse(buf + IPR_CTL_HEADER_LEN, len - IPR_CTL_HEADER_LEN, &f,
					NULL) == 0);
	FUZZ_CHECK(ipr_mapping_from_fields(&f, &back) == 0);
	FUZZ_CHECK(back.kind == m->kind && back.family == m->family);
	FUZZ_CHECK(memcmp(back.address, m->address, 16) == 0);
	FUZZ_CHECK(ipr_context_equal(&back.context, &m->context));
	FUZZ_CHECK(ipr_ref_equal(&back.ref, &m->ref));
	FUZZ_CHECK(strcmp(back.name, m->name) == 0 && strcmp(back.source, m->source) == 0);
}

static void check_fields(const uint8_t *attrs, size_t len, int depth)
{
	struct ipr_ctl_fields f;
	struct ipr_ctl_iter it;
	struct ipr_ctl_attr attr;
	struct ipr_mapping m;
	struct ipr_err err = { 0 };

	if (ipr_ctl_fields_parse(attrs, len, &f, &err) < 0) {
		FUZZ_CHECK(err.reason != NULL);
		return;
	}
	if (ipr_mapping_from_fields(&f, &m) == 0)
		check_mapping_round_trip(&m);
	if (depth > 0)
		return;
	ipr_ctl_iter_init(&it, attrs, len);
	while (ipr_ctl_iter_next(&it, &attr) > 0) {
		if (attr.type == IPR_CTL_A_MAPPING || attr.type == IPR_CTL_A_COUNTER)
			check_fields(attr.value, attr.len, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipr_ctl_header hdr;
	const uint8_t *attrs;
	size_t attrs_len;
	int rc = ipr_ctl_decode(data, size, &hdr, &attrs, &attrs_len);

	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -EPROTONOSUPPORT);
	if (rc == 0) {
		FUZZ_CHECK(attrs == data + IPR_CTL_HEADER_LEN &&
			   attrs_len == size - IPR_CTL_HEADER_LEN);
		check_fields(attrs, attrs_len, 0);
	}
	return 0;
}
