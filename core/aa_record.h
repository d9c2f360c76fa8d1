/* AA records: IPREF addresses published in DNS as TXT "AA CONTEXT + REF". */
#ifndef IPR_AA_RECORD_H
#define IPR_AA_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"

/* Longest joined TXT text considered; no valid AA record comes near it. */
#define IPR_AA_TEXT_MAX 1024

/*
 * Parses the joined text of one TXT record. An AA record is "AA", one or more spaces or tabs,
 * then an IPREF address; trailing spaces and tabs are allowed. Returns 0 for a valid AA record,
 * -ENOENT for text that is not an AA record (ignore it), -EINVAL or -ERANGE for an AA record
 * that is malformed (count and ignore it). A null reference is malformed: it is never published.
 */
IPR_MUST_CHECK int ipr_aa_parse_text(const char *text, size_t len, struct ipr_addr *out,
				     struct ipr_err *err);

/*
 * Parses TXT RDATA in wire form (length-prefixed character-strings), joining the strings
 * without separators before parsing. Adds -EBADMSG for RDATA whose strings run past its end.
 */
IPR_MUST_CHECK int ipr_aa_parse_rdata(const uint8_t *rdata, size_t len, struct ipr_addr *out,
				      struct ipr_err *err);

#endif
