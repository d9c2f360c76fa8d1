/* What the sources_*.c files share: the set's growth, the checks every source applies, input. */
#ifndef GWCTL_SOURCES_IMPL_H
#define GWCTL_SOURCES_IMPL_H

#include <ldns/ldns.h>
#include <sodium.h>
#include <sys/types.h>

#include "context.h"
#include "file.h"
#include "sources.h"

/* One file's bytes, read or given; text is NULL and read_errno set when it could not be read. */
struct sources_input {
	const char *name;
	const char *text;
	size_t len;
	int read_errno;
	struct ipr_file_err read_err; /* why, when read_errno is set by sources_read_file */
	dev_t dev; /* identity of a file read from disk, to find $INCLUDE loops; 0/0 otherwise */
	ino_t ino;
};

/* Grows *array (of *cap elements of size) to hold one more than count; 0 or -ENOMEM. */
IPR_MUST_CHECK int sources_grow(void **array, size_t *cap, size_t count, size_t size);

/*
 * Appends an error; past SOURCES_ERROR_MAX - 1 the last entry says that more were cut and
 * further ones are dropped. Returns 0 or -ENOMEM.
 */
IPR_MUST_CHECK int sources_error(struct source_set *set, const char *file, unsigned line,
				 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The index of path in set->files, adding it when new. Returns 0 or -ENOMEM. */
IPR_MUST_CHECK int sources_file_index(struct source_set *set, const char *path, size_t *index);

/*
 * Appends a mapping written at place, filling in its source text. Beyond SOURCES_MAPPING_MAX
 * the mapping becomes one error at place. Returns 0 or -ENOMEM.
 */
IPR_MUST_CHECK int sources_add_mapping(struct source_set *set, const struct ipr_mapping *m,
				       struct source_place place);

/* Puts errors[from..] in the order of their files (first read first) and lines. */
void sources_sort_errors(struct source_set *set, size_t from);

/* 0 or -EINVAL when errors are listed: what the public functions return on success. */
int sources_status(const struct source_set *set);

/*
 * Reads a regular text file of at most SOURCES_FILE_MAX bytes that held still while it was
 * read (core's ipr_file_read); 0 or -errno, with in->read_err saying why.
 */
IPR_MUST_CHECK int sources_read_file(const char *path, struct sources_input *in, char **owned);

/* Why a file could not be read, in words; buf (64 bytes will do) may hold them. */
const char *sources_read_error_text(const struct sources_input *in, char *buf, size_t size);

/* Adds a file's name and bytes, or its name and errno, to a digest. */
void sources_digest_input(crypto_generichash_state *state, const struct sources_input *in);

/* True when context is one of cfg's gateways. */
bool sources_context_is_ours(const struct sources_config *cfg, const struct ipr_context *context);

/*
 * The checks of a published mapping and of an external one. Each returns 0, or -EINVAL with
 * a reason written into reason[SOURCES_REASON_MAX].
 */
int sources_check_published_ref(const struct sources_config *cfg, const struct ipr_ref *ref,
				char *reason);
int sources_check_host_address(const struct sources_config *cfg, int family, const uint8_t *address,
			       char *reason);
int sources_check_encoded(const struct sources_config *cfg, int family, const uint8_t *address,
			  char *reason);
/*
 * An external host's context, which must be able to be a remote gateway (core/context.h):
 * 0, or -EINVAL with the reason. An IPv4-mapped one becomes IPv4 in place.
 */
int sources_check_remote_context(const struct sources_config *cfg, struct ipr_context *context,
				 char *reason);

/* Canonical text of an address of family AF_INET or AF_INET6; buf holds INET6_ADDRSTRLEN. */
const char *sources_address_text(int family, const uint8_t *address, char *buf);

/*
 * ldns reads whole files itself but loses the line an entry started on and leaves $INCLUDE to
 * the caller, so entries are cut here (parentheses, quotes, comments, escapes as RFC 1035
 * section 5.1 has them) and each is handed to ldns_rr_new_frm_str.
 */
struct sources_lexer {
	const char *text;
	size_t len;
	size_t pos;
	unsigned line; /* of text[pos] */
};

struct sources_entry {
	char *s; /* NUL-terminated; parentheses and comments are blanks in it */
	size_t len, cap;
	unsigned line;
	const char *reason; /* set when the entry is bad */
};

/*
 * Cuts the next entry: 1 with e filled (e->reason set when it is bad; the lexer has then moved
 * past the bad line), 0 at the end, -ENOMEM.
 */
IPR_MUST_CHECK int sources_lexer_next(struct sources_lexer *lx, struct sources_entry *e);

/* Splits a directive's words (quotes removed) in place; returns the count, at most max + 1. */
size_t sources_split_words(char *s, char **words, size_t max);

/* An AA record of ours in a public zone. */
struct zone_aa {
	ldns_rdf *owner; /* canonical (lower case) */
	struct ipr_addr addr;
	struct source_place place;
};

/* An A, AAAA or CNAME record of an internal zone. */
struct zone_host {
	ldns_rdf *name; /* canonical */
	ldns_rr_type type;
	uint8_t address[16];
	ldns_rdf *target; /* CNAME only, canonical */
	struct source_place place;
};

/* What reading one zone file (with its includes) gathers. */
struct zone_side {
	bool public; /* gathers AA records; otherwise hosts */
	ldns_rdf *soa_owner;
	struct source_place soa;
	ldns_rdf *first_origin; /* the first $ORIGIN, the origin when there is no SOA */
	struct zone_aa *aa;
	size_t aa_count, aa_cap;
	struct zone_host *hosts;
	size_t host_count, host_cap;
	unsigned includes;
};

/*
 * Reads a zone file's entries ($ORIGIN, $TTL, $INCLUDE and records) into side, reporting each
 * bad one at its file and line and adding included files to digest. 0 or -ENOMEM.
 */
IPR_MUST_CHECK int sources_zone_read(const struct sources_config *cfg, struct source_set *set,
				     crypto_generichash_state *digest,
				     const struct sources_input *in, struct zone_side *side);

/* Frees what side holds. */
void sources_zone_side_free(struct zone_side *side);

/* Zone pairs (sources_zone.c) and hosts files (sources_hosts.c) from inputs. */
IPR_MUST_CHECK int sources_zone_pair(const struct sources_config *cfg,
				     const struct sources_input *pub,
				     const struct sources_input *internal, struct source_set *set);
IPR_MUST_CHECK int sources_hosts(const struct sources_config *cfg, const struct sources_input *in,
				 struct source_set *set);

#endif
