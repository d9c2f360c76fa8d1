/* The ipref module's pure synthesis logic: AA records in, encoded A/AAAA and PTR data out. */
#ifndef SYNTH_H
#define SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "context.h"
#include "err.h"

/*
 * Nothing here needs Unbound, allocates or keeps state: the module calls these with buffers in
 * its query region, and the unit tests and the fuzz target call them exactly alike. Addresses
 * use AF_INET / AF_INET6 as struct ipr_mapping does.
 */

/* Most AA records used for one name; more are counted and ignored. */
#define SYNTH_AA_MAX 8

/* One TXT RDATA without the 2-byte length prefix that Unbound's packed RRsets carry, so the
 * module passes rr_data[i] + 2 and rr_len[i] - 2. */
struct synth_rdata {
	const uint8_t *data;
	size_t len;
};

struct synth_txt {
	struct ipr_addr records[SYNTH_AA_MAX]; /* valid, distinct, in RRset order */
	size_t count;
	uint32_t ttl;	    /* the TXT RRset's TTL, as given */
	size_t malformed;   /* AA records that do not parse (-EINVAL, -ERANGE) */
	size_t bad_context; /* AA records whose context no remote gateway can have */
	size_t not_aa;	    /* TXT records that are not AA records at all */
	size_t broken;	    /* RDATA whose character-strings run past its end */
	size_t duplicates;  /* repeats of a record already taken */
	size_t over_limit;  /* valid, distinct records beyond SYNTH_AA_MAX */
};

/*
 * Collects the AA records of a TXT RRset. Every item lands in exactly one of count, malformed,
 * bad_context, not_aa, broken, duplicates and over_limit. A context given as an IPv4-mapped
 * IPv6 address is taken as its IPv4 address (so both forms are one record), and one that no
 * remote gateway can have (unspecified, loopback, link-local, multicast, broadcast: see
 * core/context.h) makes the record bad_context. Returns 0 when at least one record is valid,
 * -ENOENT when none is (the caller returns the native answer; out still holds the counters),
 * -EINVAL when rdata is NULL with n > 0.
 */
IPR_MUST_CHECK int synth_txt_parse(const struct synth_rdata *rdata, size_t n, uint32_t ttl,
				   struct synth_txt *out);

/*
 * Drops the records whose context belongs to this gateway (site: its own addresses, anything
 * inside its encoded ranges), which synth_txt_parse could not know, keeping the others in
 * order; they move from count to bad_context. Returns how many were dropped.
 */
size_t synth_txt_check_site(struct synth_txt *txt, const struct ipr_site *site);

/* Which Internet families the gateway reaches (bit mask). */
enum synth_family {
	SYNTH_FAMILY_V4 = 1,
	SYNTH_FAMILY_V6 = 2,
};

enum synth_step {
	SYNTH_ADDRESS_V4 = 4, /* ask the daemon for (context IPv4, ref) now */
	SYNTH_ADDRESS_V6 = 6, /* ask the daemon for (context IPv6, ref) now */
	SYNTH_NEEDS_NAME = 1, /* resolve the context name first, never IPREF-synthesised */
};

struct synth_plan {
	enum synth_step kind;
	unsigned lookups; /* NEEDS_NAME: SYNTH_FAMILY_V4 for A, _V6 for AAAA; else 0 */
	const char *name; /* NEEDS_NAME: the record's context name (text); else NULL */
};

/*
 * What the module does with one AA record, given the families the gateway reaches. Returns 0,
 * -ENETUNREACH for an address context of a family the gateway cannot reach (or a name when it
 * reaches none: skip the record), -EINVAL for a bad families mask or record.
 */
IPR_MUST_CHECK int synth_plan_record(const struct ipr_addr *record, unsigned families,
				     struct synth_plan *out);

/*
 * The answer's TTL: the smallest of the TXT TTL, the context name's TTL (NULL when the context
 * was an address) and the mapping's guaranteed lifetime from the daemon. DNS TTLs with the top
 * bit set count as 0 (RFC 2181, 8); the mapping TTL is the daemon's plain u32, whose UINT32_MAX
 * means "no lease". Across several records, fold by passing the previous result as txt_ttl.
 */
IPR_MUST_CHECK uint32_t synth_answer_ttl(uint32_t txt_ttl, const uint32_t *name_ttl,
					 uint32_t mapping_ttl);

/* An IP address: family AF_INET (addr[0..4), the rest zero) or AF_INET6. */
struct synth_ip {
	int family;
	uint8_t addr[16];
};

/*
 * ipr_context_check for the address a context name resolved to: an IPv4-mapped one becomes
 * IPv4 in place; anything but IPR_ADDR_USABLE means the name gives no usable gateway.
 */
IPR_MUST_CHECK enum ipr_addr_use synth_ip_check(struct synth_ip *ip, const struct ipr_site *site);

/* Room for SYNTH_AA_MAX AAAA RDATA with their length prefixes. */
#define SYNTH_ANSWER_MAX (SYNTH_AA_MAX * (2 + 16))

/* A built answer RRset: data[i] and len[i] are Unbound's rr_data[i] and rr_len[i]. */
struct synth_answer {
	size_t count;
	uint8_t *data[SYNTH_AA_MAX];
	size_t len[SYNTH_AA_MAX]; /* the 2-byte prefix included: 6 for A, 18 for AAAA */
	size_t total;		  /* bytes used in buf */
};

/*
 * Writes the RDATA of the answer to an A (qtype 1) or AAAA (qtype 28) question: one per
 * distinct encoded address, in the order given, each with its big-endian 2-byte length. n = 0
 * gives an empty answer (NOERROR, no data). Returns 0, -EAFNOSUPPORT when an address is not of
 * the question's family (never an A record for an AAAA question), -E2BIG for n above
 * SYNTH_AA_MAX, -EINVAL for another qtype, -ENOSPC when buf is short; buf is untouched on error.
 */
IPR_MUST_CHECK int synth_answer_build(uint16_t qtype, const struct synth_ip *ips, size_t n,
				      uint8_t *buf, size_t size, struct synth_answer *out);

/* Longest reverse name in wire form: 32 nibble labels, "ip6", "arpa" and the root. */
#define SYNTH_REVERSE_NAME_MAX (32 * 2 + 4 + 5 + 1)

/*
 * Reads an address from a PTR question name in wire form (uncompressed labels ending with the
 * root, as Unbound's qname): four decimal labels under in-addr.arpa (0-255, no leading zeros)
 * or 32 single hex-digit labels under ip6.arpa, least significant first, in any case. Returns 0,
 * -ENOENT for a name that is not an address's name (outside both zones, or a shorter name
 * inside one), -EINVAL for a bad label or too many labels inside a zone, -EBADMSG for broken
 * wire form. out is written only on success.
 */
IPR_MUST_CHECK int synth_reverse_parse(const uint8_t *name, size_t len, struct synth_ip *out);

/* Writes the reverse name of ip in wire form (lower case); -EINVAL for a bad family, -ENOSPC. */
IPR_MUST_CHECK int synth_reverse_build(const struct synth_ip *ip, uint8_t *buf, size_t size,
				       size_t *len);

/* Longest DNS name in wire form, and the PTR RDATA holding it with its length prefix. */
#define SYNTH_NAME_WIRE_MAX 255
#define SYNTH_PTR_RDATA_MAX (2 + SYNTH_NAME_WIRE_MAX)

/*
 * Writes a DNS name given as text ("b6.example.net", one optional trailing dot) in wire form,
 * lower case, after checking it with ipr_name_parse: for the PTR target or the qname of a
 * context name's sub-query. Returns 0, -EINVAL (err filled) or -ENOSPC.
 */
IPR_MUST_CHECK int synth_name_to_wire(const char *text, size_t text_len, uint8_t *buf, size_t size,
				      size_t *len, struct ipr_err *err);

/*
 * The reverse: a wire name (uncompressed, ending with the root) as canonical text, lower case
 * with no trailing dot, for the NAME gwctld records. Returns 0, or -EINVAL for broken wire form,
 * the root, or a name ipr_name_parse refuses (underscores, for one).
 */
IPR_MUST_CHECK int synth_name_from_wire(const uint8_t *wire, size_t len,
					char out[IPR_NAME_MAX + 1]);

/* The same name as PTR RDATA in Unbound's packed form: 2-byte length, then the wire name. */
IPR_MUST_CHECK int synth_ptr_rdata(const char *text, size_t text_len, uint8_t *buf, size_t size,
				   size_t *len, struct ipr_err *err);

#endif
