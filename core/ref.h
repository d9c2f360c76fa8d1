/* IPREF references: 128-bit opaque integers, their text notations and canonical forms. */
#ifndef IPR_REF_H
#define IPR_REF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A reference as two 64-bit halves, most significant first, so it packs the same everywhere. */
struct ipr_ref {
	uint64_t hi;
	uint64_t lo;
};

/* Enough for 39 decimal digits, or 8 hex groups and 7 dashes, plus the terminating NUL. */
#define IPR_REF_TEXT_MAX 40

/*
 * Parses a reference in any notation of spec/addresses.md: decimal with optional commas,
 * 16-bit hex groups with at most one "--" (not leading), free hex with ignored dashes, dotted
 * decimal bytes. The whole of text[0..len) must be the reference: no whitespace, no sign, no
 * prefix. Returns 0, -EINVAL for bad syntax or -ERANGE for a value beyond 128 bits; columns in err
 * count from 1 at text[0].
 */
IPR_MUST_CHECK int ipr_ref_parse(const char *text, size_t len, struct ipr_ref *out,
				 struct ipr_err *err);

/* Canonical form, plain decimal; returns the length written (buf holds IPR_REF_TEXT_MAX). */
size_t ipr_ref_format(const struct ipr_ref *ref, char *buf);

/*
 * 16-bit groups in lower-case hex, at least two of them so that the text always contains a dash
 * and reads back as hex ("0-705", "6-52b9-3409-5fad-fc78"); never uses "--".
 */
size_t ipr_ref_format_hex(const struct ipr_ref *ref, char *buf);

/* References below this are never published: they are kept for the protocol's own use. */
#define IPR_REF_RESERVED_END 1024

/* Whether a reference may stand for a published host (one rule for files, CLI and daemon). */
enum ipr_ref_use {
	IPR_REF_PUBLISHABLE,
	IPR_REF_NULL,	  /* 0, the null reference */
	IPR_REF_RESERVED, /* 1-1023 */
	IPR_REF_DYNAMIC,  /* in [dynamic_min, dynamic_max], kept for allocation */
};

enum ipr_ref_use ipr_ref_use_of(const struct ipr_ref *ref, const struct ipr_ref *dynamic_min,
				const struct ipr_ref *dynamic_max);

/* A short reason for a use other than IPR_REF_PUBLISHABLE (NULL for that one). */
const char *ipr_ref_use_text(enum ipr_ref_use use);

/* The 16-byte big-endian form used by the control protocol and the store. */
void ipr_ref_to_bytes(const struct ipr_ref *ref, uint8_t out[16]);
struct ipr_ref ipr_ref_from_bytes(const uint8_t in[16]);

static inline bool ipr_ref_is_null(const struct ipr_ref *ref)
{
	return ref->hi == 0 && ref->lo == 0;
}

static inline bool ipr_ref_equal(const struct ipr_ref *a, const struct ipr_ref *b)
{
	return a->hi == b->hi && a->lo == b->lo;
}

/* -1, 0 or 1 as a is below, equal to or above b. */
static inline int ipr_ref_compare(const struct ipr_ref *a, const struct ipr_ref *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

static inline struct ipr_ref ipr_ref_from_u64(uint64_t value)
{
	return (struct ipr_ref){ .hi = 0, .lo = value };
}

#endif
