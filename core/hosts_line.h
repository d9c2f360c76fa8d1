/* One line of a hosts file with the IPREF "#=" extension (spec/addresses.md). */
#ifndef IPR_HOSTS_LINE_H
#define IPR_HOSTS_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"

#define IPR_HOSTS_MAX_NAMES 16

enum ipr_hosts_kind {
	IPR_HOSTS_NONE,	    /* blank, comment, or an ordinary hosts line without "#=" */
	IPR_HOSTS_LOCAL,    /* #= local: not visible outside */
	IPR_HOSTS_PUBLIC,   /* #= public [CONTEXT] + REF: published as that IPREF address */
	IPR_HOSTS_EXTERNAL, /* #= external CONTEXT + REF: a remote host at encoded address ip */
};

/* A piece of the parsed line, by offset, so that parsing copies nothing. */
struct ipr_span {
	size_t offset;
	size_t len;
};

struct ipr_hosts_line {
	enum ipr_hosts_kind kind;
	/* The rest is set for LOCAL, PUBLIC and EXTERNAL only. */
	int family; /* AF_INET or AF_INET6 */
	uint8_t ip[16];
	size_t name_count;
	struct ipr_span names[IPR_HOSTS_MAX_NAMES];
	/* PUBLIC without a context means "this gateway"; EXTERNAL always has one. */
	bool has_context;
	struct ipr_addr addr;
};

/*
 * Parses one line (a trailing "\n" or "\r\n" is allowed). Lines whose first non-blank
 * character is '#' are comments, and lines without "#=" are ordinary hosts entries left to
 * other tools: both are IPR_HOSTS_NONE and are not checked further. For mapping lines the IP,
 * every name, the keyword (local, public, external or a prefix of at least three letters, any
 * case) and the address are checked. Returns 0, -EINVAL or -ERANGE with the column in err.
 */
IPR_MUST_CHECK int ipr_hosts_line_parse(const char *line, size_t len, struct ipr_hosts_line *out,
					struct ipr_err *err);

/* The keyword's full name for a kind ("local", "public", "external"), or "" for NONE. */
const char *ipr_hosts_kind_name(enum ipr_hosts_kind kind);

#endif
