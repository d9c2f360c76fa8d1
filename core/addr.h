/* IPREF addresses (CONTEXT + REF) and their contexts: IPv4, IPv6 or a DNS name. */
#ifndef IPR_ADDR_H
#define IPR_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ref.h"

/* Longest DNS name in text without the trailing dot (RFC 1035: 255 octets on the wire). */
#define IPR_NAME_MAX 253

enum ipr_context_kind {
	IPR_CONTEXT_IPV4 = 4,
	IPR_CONTEXT_IPV6 = 6,
	IPR_CONTEXT_NAME = 1,
};

struct ipr_context {
	enum ipr_context_kind kind;
	union {
		uint8_t ipv4[4];
		uint8_t ipv6[16];
		/* lower case, no trailing dot, NUL-terminated */
		char name[IPR_NAME_MAX + 1];
	};
};

struct ipr_addr {
	struct ipr_context context;
	struct ipr_ref ref;
};

/* Room for the longest name, " + " and the longest reference (with its NUL). */
#define IPR_ADDR_TEXT_MAX (IPR_NAME_MAX + 3 + IPR_REF_TEXT_MAX)

enum ipr_ref_style {
	IPR_REF_DECIMAL,
	IPR_REF_HEX,
};

/*
 * Parses "CONTEXT + REF": spaces or tabs may surround the '+' and appear nowhere else.
 * Returns 0, -EINVAL or -ERANGE; err's column counts from 1 at text[0].
 */
IPR_MUST_CHECK int ipr_addr_parse(const char *text, size_t len, struct ipr_addr *out,
				  struct ipr_err *err);

/* Parses a context alone: an IPv4 literal, an IPv6 literal or an LDH DNS name. */
IPR_MUST_CHECK int ipr_context_parse(const char *text, size_t len, struct ipr_context *out,
				     struct ipr_err *err);

/*
 * Checks that text is an LDH name (labels of 1-63 letters, digits and inner hyphens, one
 * optional trailing dot) and, when out is not NULL, copies it in lower case without the dot.
 */
IPR_MUST_CHECK int ipr_name_parse(const char *text, size_t len, char out[IPR_NAME_MAX + 1],
				  struct ipr_err *err);

/* Strict dotted-quad IPv4: four decimal octets 0-255 without leading zeros. */
IPR_MUST_CHECK int ipr_ipv4_parse(const char *text, size_t len, uint8_t out[4],
				  struct ipr_err *err);

/* IPv6 literal without brackets or zone. */
IPR_MUST_CHECK int ipr_ipv6_parse(const char *text, size_t len, uint8_t out[16],
				  struct ipr_err *err);

/* Canonical text (RFC 5952 for IPv6); buf holds IPR_ADDR_TEXT_MAX. Returns the length. */
size_t ipr_context_format(const struct ipr_context *context, char *buf);
size_t ipr_addr_format(const struct ipr_addr *addr, enum ipr_ref_style style, char *buf);

bool ipr_context_equal(const struct ipr_context *a, const struct ipr_context *b);
/* A total order (kind, then address bytes or name) that agrees with ipr_context_equal. */
int ipr_context_compare(const struct ipr_context *a, const struct ipr_context *b);

#endif
