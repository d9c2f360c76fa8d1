/* Encoding and decoding gwctl control messages: header, attributes, validated fields. */
#ifndef IPR_CTL_MSG_H
#define IPR_CTL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "ctl_proto.h"
#include "err.h"
#include "ref.h"

struct ipr_ctl_header {
	uint8_t version;
	uint8_t kind;
	uint8_t flags;
	uint8_t status;
	uint32_t id;
};

struct ipr_ctl_attr {
	uint16_t type;
	uint16_t len;
	const uint8_t *value;
};

struct ipr_ctl_iter {
	const uint8_t *pos;
	const uint8_t *end;
};

/*
 * Decodes the header and checks the framing of every attribute, nested ones included.
 * Returns 0; -EBADMSG for a message too short or badly framed (hdr is filled whenever the
 * header itself was complete, so that a reply can carry the request's id); -EPROTONOSUPPORT
 * for another protocol version (hdr filled, attributes not checked).
 */
IPR_MUST_CHECK int ipr_ctl_decode(const uint8_t *msg, size_t len, struct ipr_ctl_header *hdr,
				  const uint8_t **attrs, size_t *attrs_len);

void ipr_ctl_iter_init(struct ipr_ctl_iter *it, const uint8_t *attrs, size_t len);
/* 1 with the next attribute in *attr, 0 at the end, -EBADMSG for broken framing. */
IPR_MUST_CHECK int ipr_ctl_iter_next(struct ipr_ctl_iter *it, struct ipr_ctl_attr *attr);

#define IPR_CTL_TEXT_MAX 255

/* Every scalar attribute of a message (or of one nested MAPPING), decoded and checked once. */
struct ipr_ctl_fields {
	uint32_t present; /* bit (1u << type) for each attribute seen */
	int context_family;
	uint8_t context[16];
	struct ipr_ref ref;
	char name[IPR_NAME_MAX + 1];
	char context_name[IPR_NAME_MAX + 1];
	int encoded_family;
	uint8_t encoded[16];
	int local_family;
	uint8_t local[16];
	int client_family;
	uint8_t client[16];
	uint8_t family; /* 4 or 6 */
	uint8_t map_kind;
	uint32_t ttl;
	uint64_t expires;
	uint64_t generation;
	uint64_t cursor;
	uint64_t value;
	char source[IPR_CTL_TEXT_MAX + 1];
	char message[IPR_CTL_TEXT_MAX + 1];
	char text[IPR_CTL_TEXT_MAX + 1];
	/* Nested and repeatable attributes are counted here and read with an iterator. */
	unsigned mappings;
	unsigned counters;
	unsigned ranges;   /* RANGE attributes, each checked */
	unsigned gateways; /* GATEWAY attributes, each checked */
};

static inline bool ipr_ctl_has(const struct ipr_ctl_fields *f, enum ipr_ctl_attr_type type)
{
	return f->present & (1u << type);
}

/*
 * Fills fields from a run of attributes. Unknown types are skipped (newer peers may add
 * some); a known type with a bad length or value, or a scalar given twice, is -EBADMSG with
 * a reason in err (column: byte offset + 1 of the attribute).
 */
IPR_MUST_CHECK int ipr_ctl_fields_parse(const uint8_t *attrs, size_t len,
					struct ipr_ctl_fields *fields, struct ipr_err *err);

/* Builds one message in a caller's buffer; any overflow is reported once, by finish. */
struct ipr_ctl_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

void ipr_ctl_build(struct ipr_ctl_builder *b, uint8_t *buf, size_t cap, uint8_t kind,
		   uint8_t status, uint32_t id);
void ipr_ctl_set_flags(struct ipr_ctl_builder *b, uint8_t flags);
void ipr_ctl_put(struct ipr_ctl_builder *b, uint16_t type, const void *value, size_t len);
void ipr_ctl_put_u8(struct ipr_ctl_builder *b, uint16_t type, uint8_t value);
void ipr_ctl_put_u32(struct ipr_ctl_builder *b, uint16_t type, uint32_t value);
void ipr_ctl_put_u64(struct ipr_ctl_builder *b, uint16_t type, uint64_t value);
void ipr_ctl_put_ref(struct ipr_ctl_builder *b, uint16_t type, const struct ipr_ref *ref);
/* family is AF_INET or AF_INET6 */
void ipr_ctl_put_ip(struct ipr_ctl_builder *b, uint16_t type, int family, const uint8_t *addr);
void ipr_ctl_put_text(struct ipr_ctl_builder *b, uint16_t type, const char *text);
/* Opens a nested attribute; returns a mark to pass to nest_end. */
size_t ipr_ctl_nest_begin(struct ipr_ctl_builder *b, uint16_t type);
void ipr_ctl_nest_end(struct ipr_ctl_builder *b, size_t mark);
/* The message length, or -EMSGSIZE when something did not fit. */
IPR_MUST_CHECK int ipr_ctl_finish(struct ipr_ctl_builder *b, size_t *len);

/* A COUNTER: nested TEXT name and u64 VALUE (STATS replies, REPORT_COUNTERS). */
void ipr_ctl_put_counter(struct ipr_ctl_builder *b, const char *name, uint64_t value);
/* An address attribute (4 or 16 bytes) to AF_INET / AF_INET6 and 16 bytes; -EBADMSG. */
IPR_MUST_CHECK int ipr_ctl_read_ip(const struct ipr_ctl_attr *attr, int *family, uint8_t out[16]);
/* A RANGE attribute: prefix length byte, then 4 or 16 address bytes; -EBADMSG. */
IPR_MUST_CHECK int ipr_ctl_read_range(const struct ipr_ctl_attr *attr, int *family,
				      uint8_t prefix[16], unsigned *len);
void ipr_ctl_put_range(struct ipr_ctl_builder *b, uint16_t type, int family, const uint8_t *prefix,
		       unsigned len);

/* Short English text for a status code, for logs and the CLI. */
const char *ipr_ctl_status_text(uint8_t status);

#endif
