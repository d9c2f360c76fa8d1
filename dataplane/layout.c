/* The gateway's layout from gwctld: decoded from RANGES, compared, and adopted in memory. */
#include "layout.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl_msg.h"

int dp_layout_decode(const uint8_t *attrs, size_t len, struct dp_layout *out)
{
	struct ipr_ctl_iter it;
	struct ipr_ctl_attr attr;

	memset(out, 0, sizeof(*out));
	out->known = true;
	ipr_ctl_iter_init(&it, attrs, len);
	while (ipr_ctl_iter_next(&it, &attr) > 0) {
		struct ipr_prefix p = { 0 };
		uint8_t addr[16];
		int family;

		if (attr.type == IPR_CTL_A_RANGE) {
			int i;
			if (ipr_ctl_read_range(&attr, &p.family, p.addr, &p.len) < 0)
				return -EBADMSG;
			i = p.family == AF_INET ? 0 : 1;
			if (out->has_range[i])
				return -EBADMSG;
			out->has_range[i] = true;
			out->range[i] = p;
		} else if (attr.type == IPR_CTL_A_GATEWAY) {
			if (ipr_ctl_read_ip(&attr, &family, addr) < 0 ||
			    out->gateway_count == DP_GATEWAYS_MAX)
				return -EBADMSG;
			out->gateways[out->gateway_count].family = family;
			memcpy(out->gateways[out->gateway_count].addr, addr, 16);
			out->gateway_count++;
		}
	}
	return 0;
}

bool dp_layout_equal(const struct dp_layout *a, const struct dp_layout *b)
{
	if (a->known != b->known || a->gateway_count != b->gateway_count)
		return false;
	for (int i = 0; i < 2; i++) {
		if (a->has_range[i] != b->has_range[i])
			return false;
		if (a->has_range[i] && (a->range[i].len != b->range[i].len ||
					memcmp(a->range[i].addr, b->range[i].addr, 16) != 0))
			return false;
	}
	for (size_t i = 0; i < a->gateway_count; i++)
		if (a->gateways[i].family != b->gateways[i].family ||
		    memcmp(a->gateways[i].addr, b->gateways[i].addr, 16) != 0)
			return false;
	return true;
}

void dp_layout_adopt(struct dp *dp, const struct dp_layout *next)
{
	dp->layout = *next;
	dp->own4 = (struct dp_wire_addr){ 0 };
	dp->own6 = (struct dp_wire_addr){ 0 };
	for (size_t i = next->gateway_count; i-- > 0;) {
		bool v4 = next->gateways[i].family == AF_INET;
		struct dp_wire_addr *a = v4 ? &dp->own4 : &dp->own6;
		a->ver = v4 ? 4 : 6;
		memcpy(a->bytes, next->gateways[i].addr, 16);
	}
	/* the allocators keep each range's gateway address for the gateway's own ICMP */
	dp->has_icmp_src4 =
		next->has_range[0] && ipr_prefix_gateway(&next->range[0], dp->icmp_src4) == 0;
	dp->has_icmp_src6 =
		next->has_range[1] && ipr_prefix_gateway(&next->range[1], dp->icmp_src6) == 0;
}
