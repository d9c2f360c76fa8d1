/* Hosts files with the `#=` extension: public lines publish local hosts, external lines map. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "hosts_line.h"
#include "sources_impl.h"

struct hosts_line_ctx {
	const struct sources_config *cfg;
	struct source_set *set;
	struct source_place place;
	const char *file;
};

static int line_error(const struct hosts_line_ctx *c, const char *reason)
{
	return sources_error(c->set, c->file, c->place.line, "%s", reason);
}

/* The line's first name, canonical, or "" when it has none. */
static void first_name(const char *line, const struct ipr_hosts_line *entry, char *out)
{
	out[0] = '\0';
	if (entry->name_count &&
	    ipr_name_parse(line + entry->names[0].offset, entry->names[0].len, out, NULL) < 0)
		out[0] = '\0';
}

static int public_line(const struct hosts_line_ctx *c, const char *line,
		       const struct ipr_hosts_line *entry)
{
	char reason[SOURCES_REASON_MAX], text[IPR_ADDR_TEXT_MAX];
	struct ipr_context context = entry->addr.context;
	struct ipr_mapping m;

	memset(&m, 0, sizeof(m));
	if (entry->has_context) {
		(void)ipr_context_unmap(&context); /* ours in either form of an IPv4 address */
		if (!sources_context_is_ours(c->cfg, &context)) {
			ipr_context_format(&context, text);
			return sources_error(c->set, c->file, c->place.line,
					     "public %.100s is not a context of this gateway",
					     text);
		}
		m.context = context;
	} else if (c->cfg->gateway_count == 0) {
		return line_error(c, "public + REF needs a gateway address in the configuration");
	} else {
		m.context = c->cfg->gateways[0];
	}
	if (sources_check_published_ref(c->cfg, &entry->addr.ref, reason) < 0 ||
	    sources_check_host_address(c->cfg, entry->family, entry->ip, reason) < 0)
		return line_error(c, reason);
	m.kind = IPR_MAP_PUBLISHED;
	m.family = entry->family;
	memcpy(m.address, entry->ip, sizeof(m.address));
	m.ref = entry->addr.ref;
	first_name(line, entry, m.name);
	return sources_add_mapping(c->set, &m, c->place);
}

static int external_line(const struct hosts_line_ctx *c, const char *line,
			 const struct ipr_hosts_line *entry)
{
	char reason[SOURCES_REASON_MAX], text[IPR_ADDR_TEXT_MAX];
	struct ipr_context context = entry->addr.context;
	struct ipr_mapping m;

	if (sources_check_encoded(c->cfg, entry->family, entry->ip, reason) < 0)
		return line_error(c, reason);
	(void)ipr_context_unmap(&context);
	if (sources_context_is_ours(c->cfg, &context)) {
		ipr_context_format(&context, text);
		return sources_error(c->set, c->file, c->place.line,
				     "external %.100s is this gateway: a local host is public or "
				     "local",
				     text);
	}
	memset(&m, 0, sizeof(m));
	if (sources_check_remote_context(c->cfg, &context, reason) < 0)
		return line_error(c, reason);
	m.kind = IPR_MAP_STATIC_EXTERNAL;
	m.family = entry->family;
	memcpy(m.address, entry->ip, sizeof(m.address));
	m.context = context;
	m.ref = entry->addr.ref;
	first_name(line, entry, m.name);
	return sources_add_mapping(c->set, &m, c->place);
}

static int one_line(struct hosts_line_ctx *c, const char *line, size_t len)
{
	struct ipr_hosts_line entry;
	struct ipr_err err = { 0 };
	int rc = ipr_hosts_line_parse(line, len, &entry, &err);

	if (rc < 0) {
		const char *reason = err.reason ? err.reason : "malformed mapping";
		if (err.column)
			return sources_error(c->set, c->file, c->place.line, "column %zu: %s",
					     err.column, reason);
		return line_error(c, reason);
	}
	if (entry.kind == IPR_HOSTS_PUBLIC)
		return public_line(c, line, &entry);
	if (entry.kind == IPR_HOSTS_EXTERNAL)
		return external_line(c, line, &entry);
	return 0; /* comments, ordinary entries and local ones publish nothing */
}

int sources_hosts(const struct sources_config *cfg, const struct sources_input *in,
		  struct source_set *set)
{
	crypto_generichash_state digest;
	struct hosts_line_ctx c = { .cfg = cfg, .set = set };
	size_t start = 0;
	int rc = 0;

	crypto_generichash_init(&digest, NULL, 0, SOURCES_DIGEST_BYTES);
	sources_digest_input(&digest, in);
	if (in->text)
		rc = sources_file_index(set, in->name, &c.place.file);
	if (rc == 0 && in->text) {
		c.file = set->files[c.place.file];
		while (start < in->len && rc == 0) {
			const char *nl = memchr(in->text + start, '\n', in->len - start);
			size_t end = nl ? (size_t)(nl - in->text) + 1 : in->len;

			c.place.line++;
			rc = one_line(&c, in->text + start, end - start);
			start = end;
		}
	}
	if (set->hosts_digest_count < SOURCES_HOSTS_MAX) {
		crypto_generichash_final(&digest, set->hosts_digests[set->hosts_digest_count],
					 SOURCES_DIGEST_BYTES);
		set->hosts_digest_count++;
	}
	return rc < 0 ? rc : sources_status(set);
}
