/* Fuzzes the layout from gwctld's RANGES reply: decoded or refused, in bounds, never a crash. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl_msg.h"
#include "fuzz.h"
#include "layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dp dp;
	struct ipr_ctl_fields f;
	struct ipr_err err;
	struct dp_layout l;

	/* what dpctl does: the generic field check first, then the layout's own */
	memset(&f, 0, sizeof(f));
	if (ipr_ctl_fields_parse(data, size, &f, &err) < 0)
		return 0;
	if (dp_layout_decode(data, size, &l) < 0)
		return 0;
	FUZZ_CHECK(l.known);
	FUZZ_CHECK(l.gateway_count <= DP_GATEWAYS_MAX && l.gateway_count <= f.gateways);
	for (int i = 0; i < 2; i++) {
		if (!l.has_range[i])
			continue;
		FUZZ_CHECK(l.range[i].family == (i == 0 ? AF_INET : AF_INET6));
		FUZZ_CHECK(l.range[i].len <= (i == 0 ? 32u : 128u));
	}
	for (size_t i = 0; i < l.gateway_count; i++)
		FUZZ_CHECK(l.gateways[i].family == AF_INET || l.gateways[i].family == AF_INET6);
	FUZZ_CHECK(dp_layout_equal(&l, &l));
	dp_layout_adopt(&dp, &l);
	FUZZ_CHECK(dp_layout_equal(&dp.layout, &l));
	FUZZ_CHECK(dp.own4.ver == 0 || dp.own4.ver == 4);
	FUZZ_CHECK(dp.own6.ver == 0 || dp.own6.ver == 6);
	return 0;
}
