/* Reading zone files: entries with their line numbers, directives, $INCLUDE, records via ldns. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aa_record.h"
#include "sources_impl.h"

/* The file being read and what it inherited: its origin, default TTL and last owner. */
struct scope {
	const char *name;
	size_t file;
	ldns_rdf *origin; /* NULL: no $ORIGIN and no SOA yet */
	uint32_t ttl;
	ldns_rdf *prev;
};

struct reader {
	const struct sources_config *cfg;
	struct source_set *set;
	crypto_generichash_state *digest;
	struct zone_side *side;
	/* Passed to ldns as the origin while none is known: names under it were relative. */
	ldns_rdf *unknown;
	struct sources_entry entry;
	unsigned depth;
	struct {
		dev_t dev;
		ino_t ino;
	} open[SOURCES_INCLUDE_DEPTH + 1];
};

static int parse_text(struct reader *r, struct scope *scope, const char *text, size_t len);

static int fail(struct reader *r, const struct scope *scope, unsigned line, const char *reason)
{
	return sources_error(r->set, scope->name, line, "%s", reason);
}

/* A name from a directive: absolute, "@", or relative to the scope's origin. 0 or -errno. */
static int directive_name(const struct scope *scope, const char *text, ldns_rdf **out,
			  const char **reason)
{
	char joined[1100];
	char *origin;

	*out = NULL;
	if (strlen(text) > IPR_NAME_MAX * 4) { /* every character escaped as \DDD */
		*reason = "not a valid domain name";
		return -EINVAL;
	}
	if (strcmp(text, "@") == 0 || !ldns_dname_str_absolute(text)) {
		if (!scope->origin) {
			*reason = "relative name and no $ORIGIN or SOA before it";
			return -EINVAL;
		}
		if (strcmp(text, "@") == 0) {
			*out = ldns_rdf_clone(scope->origin);
			return *out ? 0 : -ENOMEM;
		}
		origin = ldns_rdf2str(scope->origin);
		if (!origin)
			return -ENOMEM;
		/* under the root the origin's text is just "." */
		snprintf(joined, sizeof(joined), "%s.%s", text, strcmp(origin, ".") ? origin : "");
		free(origin);
		text = joined;
	}
	*out = ldns_dname_new_frm_str(text);
	if (!*out) {
		*reason = "not a valid domain name";
		return -EINVAL;
	}
	ldns_dname2canonical(*out);
	return 0;
}

static bool same_file(const struct reader *r, dev_t dev, ino_t ino)
{
	if (dev == 0 && ino == 0)
		return false;
	for (unsigned i = 0; i <= r->depth; i++)
		if (r->open[i].dev == dev && r->open[i].ino == ino)
			return true;
	return false;
}

/* The path of an included file: relative ones start from the including file's folder. */
static bool include_path(const char *including, const char *path, char *out)
{
	const char *slash = strrchr(including, '/');
	int n;

	if (path[0] == '/' || !slash)
		n = snprintf(out, SOURCES_PATH_MAX, "%s", path);
	else
		n = snprintf(out, SOURCES_PATH_MAX, "%.*s/%s", (int)(slash - including), including,
			     path);
	return n > 0 && n < SOURCES_PATH_MAX;
}

static int include(struct reader *r, struct scope *scope, unsigned line, char **words, size_t count)
{
	char path[SOURCES_PATH_MAX];
	struct sources_input in;
	struct scope sub = { .ttl = scope->ttl };
	const char *reason = NULL;
	char *owned = NULL;
	int rc;

	if (r->cfg->no_include)
		return fail(r, scope, line, "$INCLUDE is not allowed here");
	if (count < 2 || count > 3)
		return fail(r, scope, line, "$INCLUDE takes a file name and an optional origin");
	if (r->depth >= SOURCES_INCLUDE_DEPTH)
		return fail(r, scope, line, "$INCLUDE nested more than 8 deep");
	if (r->side->includes >= SOURCES_INCLUDE_MAX)
		return fail(r, scope, line, "more than 64 files included by one zone file");
	if (!include_path(scope->name, words[1], path))
		return fail(r, scope, line, "included file's path is too long");
	r->side->includes++;
	if (sources_read_file(path, &in, &owned) < 0) {
		char buf[64];

		sources_digest_input(r->digest, &in);
		if (in.read_err.line)
			return sources_error(r->set, scope->name, line,
					     "cannot read included file %s: line %u column %zu: %s",
					     path, in.read_err.line, in.read_err.column,
					     sources_read_error_text(&in, buf, sizeof(buf)));
		return sources_error(r->set, scope->name, line, "cannot read included file %s: %s",
				     path, sources_read_error_text(&in, buf, sizeof(buf)));
	}
	sources_digest_input(r->digest, &in);
	if (same_file(r, in.dev, in.ino)) {
		rc = sources_error(r->set, scope->name, line, "$INCLUDE loop: %s is already open",
				   path);
		goto out;
	}
	if (count == 3) {
		rc = directive_name(scope, words[2], &sub.origin, &reason);
		if (rc == -EINVAL)
			rc = fail(r, scope, line, reason);
		if (rc < 0 || !sub.origin)
			goto out;
	} else if (scope->origin && !(sub.origin = ldns_rdf_clone(scope->origin))) {
		rc = -ENOMEM;
		goto out;
	}
	rc = sources_file_index(r->set, path, &sub.file);
	if (rc < 0)
		goto out;
	sub.name = r->set->files[sub.file];
	r->depth++;
	r->open[r->depth].dev = in.dev;
	r->open[r->depth].ino = in.ino;
	rc = parse_text(r, &sub, in.text, in.len);
	r->depth--;
out:
	ldns_rdf_deep_free(sub.origin);
	ldns_rdf_deep_free(sub.prev);
	free(owned);
	return rc;
}

static int directive(struct reader *r, struct scope *scope)
{
	char *words[4];
	size_t count = sources_split_words(r->entry.s, words, 3);
	unsigned line = r->entry.line;
	const char *reason = NULL;

	if (strcasecmp(words[0], "$INCLUDE") == 0)
		return include(r, scope, line, words, count);
	if (strcasecmp(words[0], "$ORIGIN") == 0) {
		ldns_rdf *origin;
		int rc;

		if (count != 2)
			return fail(r, scope, line, "$ORIGIN takes one domain name");
		rc = directive_name(scope, words[1], &origin, &reason);
		if (rc == -EINVAL)
			return fail(r, scope, line, reason);
		if (rc < 0)
			return rc;
		ldns_rdf_deep_free(scope->origin);
		scope->origin = origin;
		if (!r->side->first_origin && !(r->side->first_origin = ldns_rdf_clone(origin)))
			return -ENOMEM;
		return 0;
	}
	if (strcasecmp(words[0], "$TTL") == 0) {
		const char *end = NULL;
		uint32_t ttl;

		if (count != 2)
			return fail(r, scope, line, "$TTL takes one time value");
		ttl = ldns_str2period(words[1], &end);
		if (!end || end == words[1] || *end)
			return fail(r, scope, line, "$TTL value is not a time");
		scope->ttl = ttl;
		return 0;
	}
	return sources_error(r->set, scope->name, line, "unknown directive %.64s", words[0]);
}

static bool is_relative(const struct reader *r, const ldns_rdf *name)
{
	return ldns_dname_compare(name, r->unknown) == 0 ||
	       ldns_dname_is_subdomain(name, r->unknown);
}

static bool has_relative_name(const struct reader *r, const ldns_rr *rr)
{
	if (is_relative(r, ldns_rr_owner(rr)))
		return true;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		if (ldns_rdf_get_type(f) == LDNS_RDF_TYPE_DNAME && is_relative(r, f))
			return true;
	}
	return false;
}

static int canonical_clone(const ldns_rdf *name, ldns_rdf **out)
{
	*out = ldns_rdf_clone(name);
	if (!*out)
		return -ENOMEM;
	ldns_dname2canonical(*out);
	return 0;
}

/* A TXT record of the public zone: ours when it is an AA record under one of our contexts. */
static int public_txt(struct reader *r, const struct scope *scope, const ldns_rr *rr)
{
	uint8_t wire[65536];
	size_t len = 0;
	struct ipr_addr addr;
	struct ipr_err err = { 0 };
	struct zone_aa *aa;
	int rc;

	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		size_t n = ldns_rdf_size(f);
		if (n > sizeof(wire) - len)
			return fail(r, scope, r->entry.line, "TXT record is too long");
		memcpy(wire + len, ldns_rdf_data(f), n);
		len += n;
	}
	rc = ipr_aa_parse_rdata(wire, len, &addr, &err);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return sources_error(r->set, scope->name, r->entry.line, "malformed AA record: %s",
				     err.reason ? err.reason : "unreadable");
	(void)ipr_context_unmap(&addr.context); /* ours in either form of an IPv4 address */
	if (!sources_context_is_ours(r->cfg, &addr.context))
		return 0;
	if (sources_grow((void **)&r->side->aa, &r->side->aa_cap, r->side->aa_count, sizeof(*aa)) <
	    0)
		return -ENOMEM;
	aa = &r->side->aa[r->side->aa_count];
	if (canonical_clone(ldns_rr_owner(rr), &aa->owner) < 0)
		return -ENOMEM;
	aa->addr = addr;
	aa->place = (struct source_place){ scope->file, r->entry.line };
	r->side->aa_count++;
	return 0;
}

static int internal_host(struct reader *r, const struct scope *scope, const ldns_rr *rr)
{
	ldns_rr_type type = ldns_rr_get_type(rr);
	const ldns_rdf *f = ldns_rr_rd_count(rr) ? ldns_rr_rdf(rr, 0) : NULL;
	struct zone_host *h;

	if (!f)
		return 0;
	if (sources_grow((void **)&r->side->hosts, &r->side->host_cap, r->side->host_count,
			 sizeof(*h)) < 0)
		return -ENOMEM;
	h = &r->side->hosts[r->side->host_count];
	memset(h, 0, sizeof(*h));
	h->type = type;
	if (type == LDNS_RR_TYPE_CNAME) {
		if (canonical_clone(f, &h->target) < 0)
			return -ENOMEM;
	} else {
		size_t n = type == LDNS_RR_TYPE_A ? 4 : 16;
		if (ldns_rdf_size(f) != n)
			return 0;
		memcpy(h->address, ldns_rdf_data(f), n);
	}
	if (canonical_clone(ldns_rr_owner(rr), &h->name) < 0) {
		ldns_rdf_deep_free(h->target);
		return -ENOMEM;
	}
	h->place = (struct source_place){ scope->file, r->entry.line };
	r->side->host_count++;
	return 0;
}

static int soa(struct reader *r, struct scope *scope, const ldns_rr *rr)
{
	struct zone_side *side = r->side;

	if (side->soa_owner) {
		return sources_error(r->set, scope->name, r->entry.line,
				     "second SOA record (the first is at %s:%u)",
				     r->set->files[side->soa.file], side->soa.line);
	}
	if (canonical_clone(ldns_rr_owner(rr), &side->soa_owner) < 0)
		return -ENOMEM;
	side->soa = (struct source_place){ scope->file, r->entry.line };
	return 0;
}

static int record(struct reader *r, struct scope *scope)
{
	const char *s = r->entry.s;
	ldns_rr *rr = NULL;
	ldns_rr_type type;
	ldns_status st;
	int rc = 0;

	if ((s[0] == ' ' || s[0] == '\t') && !scope->prev)
		return fail(r, scope, r->entry.line,
			    "record without an owner name and no record before it");
again:
	st = ldns_rr_new_frm_str(&rr, s, scope->ttl, scope->origin ? scope->origin : r->unknown,
				 &scope->prev);
	if (st == LDNS_STATUS_MEM_ERR)
		return -ENOMEM;
	if (st != LDNS_STATUS_OK || !rr) {
		rc = sources_error(r->set, scope->name, r->entry.line, "bad record: %s",
				   ldns_get_errorstr_by_id(st));
		goto out;
	}
	/* without $ORIGIN an absolute SOA owner is the origin, of its own data too */
	if (!scope->origin && ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
	    !is_relative(r, ldns_rr_owner(rr))) {
		rc = canonical_clone(ldns_rr_owner(rr), &scope->origin);
		ldns_rr_free(rr);
		rr = NULL;
		if (rc < 0)
			return rc;
		goto again;
	}
	if (!scope->origin && has_relative_name(r, rr)) {
		rc = fail(r, scope, r->entry.line, "relative name and no $ORIGIN or SOA before it");
		goto out;
	}
	if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
		goto out;
	type = ldns_rr_get_type(rr);
	if (type == LDNS_RR_TYPE_SOA)
		rc = soa(r, scope, rr);
	else if (r->side->public && type == LDNS_RR_TYPE_TXT)
		rc = public_txt(r, scope, rr);
	else if (!r->side->public && (type == LDNS_RR_TYPE_A || type == LDNS_RR_TYPE_AAAA ||
				      type == LDNS_RR_TYPE_CNAME))
		rc = internal_host(r, scope, rr);
out:
	ldns_rr_free(rr);
	return rc;
}

static int parse_text(struct reader *r, struct scope *scope, const char *text, size_t len)
{
	struct sources_lexer lx = { .text = text, .len = len, .line = 1 };
	int rc;

	while ((rc = sources_lexer_next(&lx, &r->entry)) > 0) {
		if (r->entry.reason)
			rc = fail(r, scope, r->entry.line, r->entry.reason);
		else if (r->entry.s[0] == '$')
			rc = directive(r, scope);
		else
			rc = record(r, scope);
		if (rc < 0)
			return rc;
	}
	return rc;
}

int sources_zone_read(const struct sources_config *cfg, struct source_set *set,
		      crypto_generichash_state *digest, const struct sources_input *in,
		      struct zone_side *side)
{
	struct reader r = { .cfg = cfg, .set = set, .digest = digest, .side = side };
	struct scope top = { .ttl = 3600 };
	int rc;

	r.open[0].dev = in->dev;
	r.open[0].ino = in->ino;
	rc = sources_file_index(set, in->name, &top.file);
	if (rc < 0)
		return rc;
	top.name = set->files[top.file];
	r.unknown = ldns_dname_new_frm_str("no-origin.ipref.invalid.");
	if (!r.unknown)
		return -ENOMEM;
	rc = parse_text(&r, &top, in->text, in->len);
	ldns_rdf_deep_free(r.unknown);
	ldns_rdf_deep_free(top.origin);
	ldns_rdf_deep_free(top.prev);
	free(r.entry.s);
	return rc;
}

void sources_zone_side_free(struct zone_side *side)
{
	for (size_t i = 0; i < side->aa_count; i++)
		ldns_rdf_deep_free(side->aa[i].owner);
	for (size_t i = 0; i < side->host_count; i++) {
		ldns_rdf_deep_free(side->hosts[i].name);
		ldns_rdf_deep_free(side->hosts[i].target);
	}
	free(side->aa);
	free(side->hosts);
	ldns_rdf_deep_free(side->soa_owner);
	ldns_rdf_deep_free(side->first_origin);
	memset(side, 0, sizeof(*side));
}
