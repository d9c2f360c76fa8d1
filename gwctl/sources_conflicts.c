/* Mappings against each other once every source is in: repeats dropped, clashes reported. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources_impl.h"

struct key {
	const struct ipr_mapping *m;
	size_t index;
};

static int by_index(const struct key *a, const struct key *b)
{
	return a->index < b->index ? -1 : a->index > b->index;
}

static int address_compare(const struct ipr_mapping *a, const struct ipr_mapping *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->address, b->address, sizeof(a->address));
}

/* The remote side of an external mapping: its encoded family, context and reference. */
static int remote_compare(const struct ipr_mapping *a, const struct ipr_mapping *b)
{
	int c = a->family != b->family ? (a->family < b->family ? -1 : 1) : 0;

	if (c == 0)
		c = ipr_context_compare(&a->context, &b->context);
	if (c == 0)
		c = ipr_ref_compare(&a->ref, &b->ref);
	return c;
}

static int published_order(const void *x, const void *y)
{
	const struct key *a = x, *b = y;
	int c = ipr_ref_compare(&a->m->ref, &b->m->ref);

	return c ? c : by_index(a, b);
}

static int encoded_order(const void *x, const void *y)
{
	const struct key *a = x, *b = y;
	int c = address_compare(a->m, b->m);

	return c ? c : by_index(a, b);
}

static int remote_order(const void *x, const void *y)
{
	const struct key *a = x, *b = y;
	int c = remote_compare(a->m, b->m);

	return c ? c : by_index(a, b);
}

/* One side of a clash: "ADDRESS at FILE:LINE" and the like. */
struct side_text {
	char address[INET6_ADDRSTRLEN];
	char ipref[IPR_ADDR_TEXT_MAX];
	char place[160];
};

static void describe(const struct source_set *set, size_t index, struct side_text *t)
{
	const struct ipr_mapping *m = &set->mappings[index];
	const struct source_place *p = &set->places[index];
	struct ipr_addr addr = { .context = m->context, .ref = m->ref };

	sources_address_text(m->family, m->address, t->address);
	ipr_addr_format(&addr, IPR_REF_DECIMAL, t->ipref);
	snprintf(t->place, sizeof(t->place), "%.140s:%u", set->files[p->file], p->line);
}

enum clash {
	CLASH_REF,     /* one reference published for two hosts */
	CLASH_ENCODED, /* one encoded address for two remote addresses */
	CLASH_REMOTE,  /* one remote address at two encoded addresses */
};

/* Reports a clash at both places. 0 or -ENOMEM. */
static int report(struct source_set *set, enum clash clash, size_t first, size_t later)
{
	const struct source_place *pf = &set->places[first], *pl = &set->places[later];
	const char *ff = set->files[pf->file], *fl = set->files[pl->file];
	struct side_text f, l;
	char ref[IPR_REF_TEXT_MAX];
	int rc;

	describe(set, first, &f);
	describe(set, later, &l);
	ipr_ref_format(&set->mappings[first].ref, ref);
	switch (clash) {
	case CLASH_REF:
		rc = sources_error(set, fl, pl->line,
				   "reference %s is already published for %s at %s", ref, f.address,
				   f.place);
		if (rc == 0)
			rc = sources_error(set, ff, pf->line,
					   "reference %s is also published for %s at %s", ref,
					   l.address, l.place);
		return rc;
	case CLASH_ENCODED:
		rc = sources_error(set, fl, pl->line, "%s already stands for %s at %s", l.address,
				   f.ipref, f.place);
		if (rc == 0)
			rc = sources_error(set, ff, pf->line, "%s is also given to %s at %s",
					   f.address, l.ipref, l.place);
		return rc;
	case CLASH_REMOTE:
		rc = sources_error(set, fl, pl->line, "%s is already reached at %s from %s",
				   l.ipref, f.address, f.place);
		if (rc == 0)
			rc = sources_error(set, ff, pf->line, "%s is also reached at %s from %s",
					   f.ipref, l.address, l.place);
		return rc;
	}
	return 0;
}

/*
 * Walks runs of equal keys (sorted by order, then by index, so the first is the keeper): later
 * members the same as the keeper by same() are dropped quietly, the others reported and
 * dropped. 0 or -ENOMEM.
 */
static int walk(struct source_set *set, struct key *keys, size_t n,
		int (*order)(const void *, const void *),
		int (*same)(const struct ipr_mapping *, const struct ipr_mapping *),
		enum clash clash, bool *drop)
{
	int rc = 0;

	if (n > 1)
		qsort(keys, n, sizeof(*keys), order);
	for (size_t s = 0, e; s < n && rc == 0; s = e) {
		for (e = s + 1; e < n; e++) {
			struct key a = keys[s], b = keys[e];

			a.index = b.index = 0;
			if (order(&a, &b) != 0)
				break;
		}
		for (size_t j = s + 1; j < e && rc == 0; j++) {
			if (same && same(keys[s].m, keys[j].m) == 0)
				drop[keys[j].index] = true;
			else {
				rc = report(set, clash, keys[s].index, keys[j].index);
				drop[keys[j].index] = true;
			}
		}
	}
	return rc;
}

/* Fills keys with the mappings of a kind not dropped yet; returns how many. */
static size_t collect(const struct source_set *set, enum ipr_mapping_kind kind, const bool *drop,
		      struct key *keys)
{
	size_t n = 0;

	for (size_t i = 0; i < set->count; i++)
		if (set->mappings[i].kind == kind && !drop[i])
			keys[n++] = (struct key){ &set->mappings[i], i };
	return n;
}

int sources_check_conflicts(const struct sources_config *cfg, struct source_set *set)
{
	struct key *keys = NULL;
	bool *drop = NULL;
	size_t n, kept = 0;
	int rc = -ENOMEM;

	(void)cfg;
	if (set->count == 0)
		return sources_status(set);
	keys = calloc(set->count, sizeof(*keys));
	drop = calloc(set->count, sizeof(*drop));
	if (!keys || !drop)
		goto out;

	n = collect(set, IPR_MAP_PUBLISHED, drop, keys);
	rc = walk(set, keys, n, published_order, address_compare, CLASH_REF, drop);
	if (rc == 0) {
		n = collect(set, IPR_MAP_STATIC_EXTERNAL, drop, keys);
		rc = walk(set, keys, n, encoded_order, remote_compare, CLASH_ENCODED, drop);
	}
	if (rc == 0) {
		n = collect(set, IPR_MAP_STATIC_EXTERNAL, drop, keys);
		rc = walk(set, keys, n, remote_order, NULL, CLASH_REMOTE, drop);
	}
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < set->count; i++) {
		if (drop[i])
			continue;
		set->mappings[kept] = set->mappings[i];
		set->places[kept] = set->places[i];
		kept++;
	}
	set->count = kept;
	rc = sources_status(set);
out:
	free(keys);
	free(drop);
	return rc;
}
