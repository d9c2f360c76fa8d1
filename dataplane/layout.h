/* The gateway's layout from gwctld's RANGES: decoding it, comparing it, and what it decides. */
#ifndef DP_LAYOUT_H
#define DP_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "dp.h"

/*
 * A RANGES reply's attributes (already checked by ipr_ctl_fields_parse) into out: at most one
 * range per family and DP_GATEWAYS_MAX addresses. -EBADMSG when a range is given twice for a
 * family or there are more addresses than that, out then undefined.
 */
IPR_MUST_CHECK int dp_layout_decode(const uint8_t *attrs, size_t len, struct dp_layout *out);

bool dp_layout_equal(const struct dp_layout *a, const struct dp_layout *b);

/*
 * Takes next as dp's layout and what follows from it in memory: our public address of each
 * family (the first gateway address of that family) and the gateway's own ICMP source in each
 * encoded range. Routes and the TUN MTU are the I/O side's (dp->layout_apply).
 */
void dp_layout_adopt(struct dp *dp, const struct dp_layout *next);

#endif
