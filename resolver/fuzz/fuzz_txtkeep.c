/*
 * Fuzzes the module's table of TXT answers with any sequence of keeps and finds: what was just
 * kept is found as kept, and the table stays within its bounds in entries and bytes.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "txtkeep.h"

/* One step of the input: an operation byte, then a name, flags, a time and TXT items. */
struct reader {
	const uint8_t *data;
	size_t size, at;
};

static uint8_t next(struct reader *r)
{
	return r->at < r->size ? r->data[r->at++] : 0;
}

static const uint8_t *take(struct reader *r, size_t *len)
{
	const uint8_t *p = r->data + r->at;

	if (*len > r->size - r->at)
		*len = r->size - r->at;
	r->at += *len;
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size, 0 };
	struct synth_rdata items[8];
	struct txtkeep k;
	time_t now = 1000;

	FUZZ_CHECK(txtkeep_init(&k, 8, 8 * 256) == 0);
	while (r.at < r.size) {
		uint8_t op = next(&r);
		size_t name_len = next(&r) % 40;
		const uint8_t *name = take(&r, &name_len);
		uint16_t flags = (uint16_t)(next(&r) << 8 | next(&r));
		struct txtkeep_answer answer = { .security = op >> 4,
						 .ttl = next(&r),
						 .keep_secs = next(&r) % 8,
						 .items = items,
						 .count = op & 7 };
		struct txtkeep_answer found;
		int rc;

		now += next(&r) % 4;
		for (size_t i = 0; i < answer.count; i++) {
			items[i].len = next(&r) % 64;
			items[i].data = take(&r, &items[i].len);
		}
		if (op & 8) {
			rc = txtkeep_find(&k, name, name_len, flags, now, now - 2, &found);
			FUZZ_CHECK(rc == 0 || rc == -ENOENT);
			continue;
		}
		rc = txtkeep_put(&k, name, name_len, flags, &answer, now);
		FUZZ_CHECK(rc == 0 || rc == -E2BIG || rc == -EINVAL);
		FUZZ_CHECK(k.count <= 8 && k.bytes <= 8 * 256);
		if (rc != 0 || answer.keep_secs == 0)
			continue;
		FUZZ_CHECK(txtkeep_find(&k, name, name_len, flags, now, now, &found) == 0);
		FUZZ_CHECK(found.count == answer.count && found.security == answer.security);
		for (size_t i = 0; i < found.count; i++)
			FUZZ_CHECK(found.items[i].len == items[i].len &&
				   memcmp(found.items[i].data, items[i].data, items[i].len) == 0);
	}
	txtkeep_deinit(&k);
	return 0;
}
