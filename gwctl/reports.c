/* Keeping the counters that the dataplane and other components report, for `gwctl stats`. */
#include "reports.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SLOTS (REPORTS_RESERVED + REPORTS_COMPONENTS)

/* The components of the suite itself, each with a slot of its own. */
static const char *const reserved[REPORTS_RESERVED] = { "dataplane", "resolver" };

/*
 * The project's counter naming rule: lowercase words (a letter, then letters, digits and
 * underscores) with dots between levels, so that "component.group.name" keys split on dots
 * and become Prometheus names as they are. A component name is one word.
 */
static bool name_ok(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);
	bool word_start = true;

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (word_start && !(c >= 'a' && c <= 'z'))
			return false;
		word_start = dots && c == '.';
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || word_start))
			return false;
	}
	return !word_start;
}

/* Reads the COUNTER nests into out; the component's slot changes only if all are good. */
static int read_counters(const uint8_t *attrs, size_t len, struct reports_component *out,
			 const char **why)
{
	struct ipr_ctl_iter it;
	struct ipr_ctl_attr attr;
	int rc;

	out->count = 0;
	ipr_ctl_iter_init(&it, attrs, len);
	while ((rc = ipr_ctl_iter_next(&it, &attr)) > 0) {
		struct ipr_ctl_fields f;
		struct reports_counter *c;

		if (attr.type != IPR_CTL_A_COUNTER)
			continue;
		if (ipr_ctl_fields_parse(attr.value, attr.len, &f, NULL) < 0 ||
		    !ipr_ctl_has(&f, IPR_CTL_A_TEXT) || !ipr_ctl_has(&f, IPR_CTL_A_VALUE)) {
			*why = "a COUNTER needs TEXT and VALUE";
			return -EINVAL;
		}
		if (!name_ok(f.text, REPORTS_NAME_MAX, true)) {
			*why = "counter names are 1-47 of a-z 0-9 _, words joined by dots";
			return -EINVAL;
		}
		if (out->count == REPORTS_COUNTERS) {
			*why = "more counters than gwctld keeps of a component";
			return -EINVAL;
		}
		c = &out->counters[out->count++];
		snprintf(c->name, sizeof(c->name), "%.*s", REPORTS_NAME_MAX, f.text);
		c->value = f.value;
	}
	if (rc < 0) {
		*why = "bad COUNTER framing";
		return -EINVAL;
	}
	return 0;
}

int reports_update(struct reports *r, const uint8_t *attrs, size_t len, int64_t now_ms,
		   const char **why)
{
	static struct reports_component fresh; /* too large for a daemon's stack frame */
	struct reports_component *slot = NULL;
	struct ipr_ctl_fields f;
	int rc;

	*why = NULL;
	if (ipr_ctl_fields_parse(attrs, len, &f, NULL) < 0 || !ipr_ctl_has(&f, IPR_CTL_A_TEXT) ||
	    !name_ok(f.text, REPORTS_COMPONENT_MAX, false)) {
		*why = "REPORT_COUNTERS needs TEXT: a component name of 1-31 a-z 0-9 _";
		return -EINVAL;
	}
	rc = read_counters(attrs, len, &fresh, why);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < REPORTS_RESERVED && !slot; i++)
		if (strcmp(reserved[i], f.text) == 0)
			slot = &r->components[i];
	for (size_t i = REPORTS_RESERVED; i < SLOTS && !slot; i++)
		if (strcmp(r->components[i].name, f.text) == 0)
			slot = &r->components[i];
	for (size_t i = REPORTS_RESERVED; i < SLOTS && !slot; i++)
		if (!r->components[i].name[0])
			slot = &r->components[i];
	if (!slot) {
		*why = "too many reporting components";
		return -EBUSY;
	}
	snprintf(fresh.name, sizeof(fresh.name), "%.*s", REPORTS_COMPONENT_MAX, f.text);
	fresh.reported_ms = now_ms;
	*slot = fresh;
	return (int)slot->count;
}

void reports_each(const struct reports *r,
		  void (*put)(struct ipr_ctl_builder *b, const char *name, uint64_t value),
		  struct ipr_ctl_builder *b)
{
	char name[REPORTS_COMPONENT_MAX + 1 + REPORTS_NAME_MAX + 1];

	for (size_t i = 0; i < SLOTS; i++) {
		const struct reports_component *c = &r->components[i];
		for (unsigned j = 0; c->name[0] && j < c->count; j++) {
			snprintf(name, sizeof(name), "%s.%s", c->name, c->counters[j].name);
			put(b, name, c->counters[j].value);
		}
	}
}

int reports_age_ms(const struct reports *r, const char *component, int64_t now_ms, int64_t *age_ms)
{
	for (size_t i = 0; i < SLOTS; i++) {
		if (strcmp(r->components[i].name, component) == 0) {
			*age_ms = now_ms > r->components[i].reported_ms
					  ? now_ms - r->components[i].reported_ms
					  : 0;
			return 0;
		}
	}
	return -ENOENT;
}

int reports_find(const struct reports *r, const char *component, const char *name, uint64_t *value)
{
	for (size_t i = 0; i < SLOTS; i++) {
		const struct reports_component *c = &r->components[i];

		if (strcmp(c->name, component) != 0)
			continue;
		for (unsigned j = 0; j < c->count; j++)
			if (strcmp(c->counters[j].name, name) == 0) {
				*value = c->counters[j].value;
				return 0;
			}
	}
	return -ENOENT;
}
