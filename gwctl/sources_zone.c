/* Zone pairs: each AA record of ours in the public zone matched to a host of the internal zone. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sources_impl.h"

/* Room for a domain name in text with every character escaped, and its NUL. */
#define NAME_TEXT_MAX (4 * 255 + 1)

/* SOA owner, or else the first $ORIGIN. */
static const ldns_rdf *zone_origin(const struct zone_side *side)
{
	return side->soa_owner ? side->soa_owner : side->first_origin;
}

static int name_compare(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	if (a_len != b_len)
		return a_len < b_len ? -1 : 1;
	return memcmp(a, b, a_len);
}

static int rdf_compare(const ldns_rdf *a, const ldns_rdf *b)
{
	return name_compare(ldns_rdf_data(a), ldns_rdf_size(a), ldns_rdf_data(b), ldns_rdf_size(b));
}

/* By name, then type and data, then place: duplicates end up next to each other. */
static int host_compare(const void *x, const void *y)
{
	const struct zone_host *a = x, *b = y;
	int c = rdf_compare(a->name, b->name);

	if (c)
		return c;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	c = memcmp(a->address, b->address, sizeof(a->address));
	if (c)
		return c;
	if (a->target && b->target && (c = rdf_compare(a->target, b->target)))
		return c;
	if (a->place.file != b->place.file)
		return a->place.file < b->place.file ? -1 : 1;
	return a->place.line < b->place.line ? -1 : a->place.line > b->place.line;
}

static bool same_data(const struct zone_host *a, const struct zone_host *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == LDNS_RR_TYPE_CNAME)
		return rdf_compare(a->target, b->target) == 0;
	return memcmp(a->address, b->address, sizeof(a->address)) == 0;
}

/* Bytes of name's labels above origin (both canonical), or -1 when name is not at or under it. */
static long relative_len(const ldns_rdf *name, const ldns_rdf *origin)
{
	const uint8_t *n = ldns_rdf_data(name), *o = ldns_rdf_data(origin);
	size_t n_len = ldns_rdf_size(name), o_len = ldns_rdf_size(origin), pos = 0;

	while (pos < n_len) {
		if (n_len - pos == o_len && memcmp(n + pos, o, o_len) == 0)
			return (long)pos;
		if (n[pos] == 0)
			break;
		pos += (size_t)n[pos] + 1;
	}
	return -1;
}

/* A name in presentation form for messages ("?" when it cannot be had). */
static const char *wire_text(const uint8_t *wire, size_t len, char *buf)
{
	ldns_rdf *rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, len, wire);
	char *s = rdf ? ldns_rdf2str(rdf) : NULL;

	snprintf(buf, NAME_TEXT_MAX, "%s", s ? s : "?");
	free(s);
	ldns_rdf_deep_free(rdf);
	return buf;
}

static const char *rdf_text(const ldns_rdf *rdf, char *buf)
{
	return wire_text(ldns_rdf_data(rdf), ldns_rdf_size(rdf), buf);
}

/* What an internal zone says about its names. */
struct internal {
	const struct zone_side *side;
	const ldns_rdf *origin;
	const char *name; /* the internal file, for messages */
	const struct source_set *set;
};

/* Index of the first host whose name is not below name (sorted hosts). */
static size_t lower_bound(const struct internal *in, const uint8_t *name, size_t len)
{
	size_t lo = 0, hi = in->side->host_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const ldns_rdf *h = in->side->hosts[mid].name;
		if (name_compare(ldns_rdf_data(h), ldns_rdf_size(h), name, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct found {
	int family;
	uint8_t address[16];
};

/*
 * The one host address a name of the internal zone stands for: its A record, else its AAAA
 * record, else (when follow) those of its CNAME's target in the same zone. 0, or -EINVAL with
 * a reason.
 */
static int resolve(const struct internal *in, const uint8_t *name, size_t len, bool follow,
		   struct found *out, char *reason)
{
	const struct zone_host *first[3] = { NULL, NULL, NULL }; /* A, AAAA, CNAME */
	size_t count[3] = { 0, 0, 0 };
	size_t i = lower_bound(in, name, len);
	char text[NAME_TEXT_MAX], target[NAME_TEXT_MAX];

	for (; i < in->side->host_count; i++) {
		const struct zone_host *h = &in->side->hosts[i];
		int kind = h->type == LDNS_RR_TYPE_A ? 0 : h->type == LDNS_RR_TYPE_AAAA ? 1 : 2;

		if (name_compare(ldns_rdf_data(h->name), ldns_rdf_size(h->name), name, len) != 0)
			break;
		if (first[kind] && same_data(h - 1, h))
			continue; /* the same record again */
		if (!first[kind])
			first[kind] = h;
		count[kind]++;
	}
	wire_text(name, len, text);
	if (count[0] || count[1]) {
		int kind = count[0] ? 0 : 1;

		if (count[kind] > 1) {
			snprintf(reason, SOURCES_REASON_MAX,
				 "%.100s has %zu %s records (the first at %.60s:%u): a reference "
				 "stands for one host",
				 text, count[kind], kind ? "AAAA" : "A",
				 in->set->files[first[kind]->place.file], first[kind]->place.line);
			return -EINVAL;
		}
		out->family = kind ? AF_INET6 : AF_INET;
		memcpy(out->address, first[kind]->address, sizeof(out->address));
		return 0;
	}
	if (count[2]) {
		const ldns_rdf *to = first[2]->target;

		rdf_text(to, target);
		if (count[2] > 1 || !follow) {
			snprintf(reason, SOURCES_REASON_MAX,
				 "%.100s is %s CNAME: one CNAME is followed, to an address", text,
				 follow ? "more than one" : "again a");
			return -EINVAL;
		}
		if (relative_len(to, in->origin) < 0) {
			snprintf(reason, SOURCES_REASON_MAX,
				 "%.100s is a CNAME to %.100s, outside the internal zone", text,
				 target);
			return -EINVAL;
		}
		return resolve(in, ldns_rdf_data(to), ldns_rdf_size(to), false, out, reason);
	}
	snprintf(reason, SOURCES_REASON_MAX, "%.100s has no A or AAAA record in %.100s", text,
		 in->name);
	return -EINVAL;
}

/* One AA record of ours: its reference, its host, and the mapping. 0 or -ENOMEM. */
static int publish(const struct sources_config *cfg, struct source_set *set,
		   const ldns_rdf *pub_origin, const struct internal *in, const struct zone_aa *aa)
{
	const char *file = set->files[aa->place.file];
	char reason[SOURCES_REASON_MAX], owner[NAME_TEXT_MAX], origin[NAME_TEXT_MAX];
	uint8_t wire[LDNS_MAX_DOMAINLEN + 1];
	size_t origin_len = ldns_rdf_size(in->origin);
	struct ipr_mapping m;
	struct found host;
	long rel;

	if (sources_check_published_ref(cfg, &aa->addr.ref, reason) < 0)
		return sources_error(set, file, aa->place.line, "%s", reason);
	rdf_text(aa->owner, owner);
	rel = relative_len(aa->owner, pub_origin);
	if (rel < 0)
		return sources_error(set, file, aa->place.line,
				     "%.100s lies outside the zone's origin %.100s", owner,
				     rdf_text(pub_origin, origin));
	if ((size_t)rel + origin_len > LDNS_MAX_DOMAINLEN)
		return sources_error(set, file, aa->place.line,
				     "%.100s is too long a name under the internal origin", owner);
	memcpy(wire, ldns_rdf_data(aa->owner), (size_t)rel);
	memcpy(wire + rel, ldns_rdf_data(in->origin), origin_len);
	if (resolve(in, wire, (size_t)rel + origin_len, true, &host, reason) < 0 ||
	    sources_check_host_address(cfg, host.family, host.address, reason) < 0)
		return sources_error(set, file, aa->place.line, "%s", reason);

	memset(&m, 0, sizeof(m));
	m.kind = IPR_MAP_PUBLISHED;
	m.family = host.family;
	memcpy(m.address, host.address, sizeof(m.address));
	m.context = aa->addr.context;
	m.ref = aa->addr.ref;
	/* names that are not LDH (wildcards, underscores) are published without one */
	if (ipr_name_parse(owner, strlen(owner), m.name, NULL) < 0)
		m.name[0] = '\0';
	return sources_add_mapping(set, &m, aa->place);
}

static int match(const struct sources_config *cfg, struct source_set *set,
		 const struct sources_input *pub, const struct zone_side *ps,
		 const struct sources_input *internal, struct zone_side *is)
{
	const ldns_rdf *pub_origin = zone_origin(ps);
	struct internal in = {
		.side = is, .origin = zone_origin(is), .name = internal->name, .set = set
	};
	int rc = 0;

	if (!pub_origin)
		rc = sources_error(set, pub->name, 0,
				   "no SOA record and no $ORIGIN: the zone's origin is unknown");
	if (rc == 0 && !in.origin)
		rc = sources_error(set, internal->name, 0,
				   "no SOA record and no $ORIGIN: the zone's origin is unknown");
	if (rc < 0 || !pub_origin || !in.origin)
		return rc;
	if (is->host_count)
		qsort(is->hosts, is->host_count, sizeof(*is->hosts), host_compare);
	for (size_t i = 0; i < ps->aa_count && rc == 0; i++)
		rc = publish(cfg, set, pub_origin, &in, &ps->aa[i]);
	return rc;
}

int sources_zone_pair(const struct sources_config *cfg, const struct sources_input *pub,
		      const struct sources_input *internal, struct source_set *set)
{
	crypto_generichash_state digest;
	struct zone_side ps = { .public = true }, is = { .public = false };
	size_t first_error = set->error_count;
	int rc = 0;

	crypto_generichash_init(&digest, NULL, 0, SOURCES_DIGEST_BYTES);
	sources_digest_input(&digest, pub);
	if (pub->text)
		rc = sources_zone_read(cfg, set, &digest, pub, &ps);
	if (rc == 0) {
		sources_digest_input(&digest, internal);
		if (internal->text)
			rc = sources_zone_read(cfg, set, &digest, internal, &is);
	}
	/* an unreadable file is reported by whoever read it; nothing can be matched then */
	if (rc == 0 && pub->text && internal->text)
		rc = match(cfg, set, pub, &ps, internal, &is);
	if (set->zone_digest_count < SOURCES_ZONE_MAX) {
		crypto_generichash_final(&digest, set->zone_digests[set->zone_digest_count],
					 SOURCES_DIGEST_BYTES);
		set->zone_digest_count++;
	}
	sources_zone_side_free(&ps);
	sources_zone_side_free(&is);
	/* matching reports after reading: put them back among the syntax errors */
	sources_sort_errors(set, first_error);
	return rc < 0 ? rc : sources_status(set);
}
