/* Counters other components push to gwctld (REPORT_COUNTERS), kept to be shown by STATS. */
#ifndef GWCTL_REPORTS_H
#define GWCTL_REPORTS_H

#include <stddef.h>
#include <stdint.h>

#include "ctl_msg.h"

/* Slots for other reporters; the suite's own components have theirs besides (reports.c). */
#define REPORTS_COMPONENTS    4
#define REPORTS_RESERVED      2 /* dataplane, resolver */
#define REPORTS_COUNTERS      IPR_CTL_REPORT_COUNTERS_MAX
#define REPORTS_COMPONENT_MAX 31
#define REPORTS_NAME_MAX      47

struct reports_counter {
	char name[REPORTS_NAME_MAX + 1];
	uint64_t value;
};

/* The latest set one component reported, replaced whole by its next report. */
struct reports_component {
	char name[REPORTS_COMPONENT_MAX + 1]; /* "": free slot */
	unsigned count;
	int64_t reported_ms; /* when (the caller's monotonic clock) */
	struct reports_counter counters[REPORTS_COUNTERS];
};

/*
 * components[0..REPORTS_RESERVED) belong to the suite's own components, by name, so that no
 * other reporter (any member of the socket group may report) can take them; the others are
 * shared, first come.
 */
struct reports {
	struct reports_component components[REPORTS_RESERVED + REPORTS_COMPONENTS];
};

/*
 * Replaces a component's counters from a REPORT_COUNTERS request's attributes: TEXT names the
 * component (a word of [a-z0-9_], 1-31), each COUNTER nest holds TEXT (such words joined by
 * dots, 1-47) and VALUE.
 * Returns how many counters were kept, -EINVAL (why says what is wrong; nothing changes) or
 * -EBUSY when every shared slot is taken by others (never for "dataplane" and "resolver").
 */
IPR_MUST_CHECK int reports_update(struct reports *r, const uint8_t *attrs, size_t len,
				  int64_t now_ms, const char **why);

/* Calls put for each counter as "component.name", in the order they were reported. */
void reports_each(const struct reports *r,
		  void (*put)(struct ipr_ctl_builder *b, const char *name, uint64_t value),
		  struct ipr_ctl_builder *b);

/* How long ago (ms, by now_ms's clock) component last reported: 0, or -ENOENT when never. */
IPR_MUST_CHECK int reports_age_ms(const struct reports *r, const char *component, int64_t now_ms,
				  int64_t *age_ms);

/* The value component last reported for counter name: 0, or -ENOENT when it reported none. */
IPR_MUST_CHECK int reports_find(const struct reports *r, const char *component, const char *name,
				uint64_t *value);

#endif
