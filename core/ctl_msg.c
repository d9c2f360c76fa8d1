/* gwctl control messages: framing checks, attribute iteration, field validation, building. */
#include "ctl_msg.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* MAPPING and COUNTER nest one level; nothing nests deeper. */
#define NEST_DEPTH_MAX 2

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t get_u64(const uint8_t *p)
{
	return ((uint64_t)get_u32(p) << 32) | get_u32(p + 4);
}

static void set_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void set_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static bool is_nested(uint16_t type)
{
	return type == IPR_CTL_A_MAPPING || type == IPR_CTL_A_COUNTER;
}

void ipr_ctl_iter_init(struct ipr_ctl_iter *it, const uint8_t *attrs, size_t len)
{
	it->pos = attrs;
	it->end = attrs + len;
}

int ipr_ctl_iter_next(struct ipr_ctl_iter *it, struct ipr_ctl_attr *attr)
{
	size_t left = (size_t)(it->end - it->pos);

	if (left == 0)
		return 0;
	if (left < IPR_CTL_ATTR_HEAD)
		return -EBADMSG;
	attr->type = get_u16(it->pos);
	attr->len = get_u16(it->pos + 2);
	if (attr->len > left - IPR_CTL_ATTR_HEAD)
		return -EBADMSG;
	attr->value = it->pos + IPR_CTL_ATTR_HEAD;
	it->pos += IPR_CTL_ATTR_HEAD + attr->len;
	return 1;
}

static int check_framing(const uint8_t *attrs, size_t len, int depth)
{
	struct ipr_ctl_iter it;
	struct ipr_ctl_attr attr;
	int rc;

	ipr_ctl_iter_init(&it, attrs, len);
	while ((rc = ipr_ctl_iter_next(&it, &attr)) > 0) {
		if (!is_nested(attr.type))
			continue;
		if (depth + 1 >= NEST_DEPTH_MAX)
			return -EBADMSG;
		rc = check_framing(attr.value, attr.len, depth + 1);
		if (rc < 0)
			return rc;
	}
	return rc;
}

int ipr_ctl_decode(const uint8_t *msg, size_t len, struct ipr_ctl_header *hdr,
		   const uint8_t **attrs, size_t *attrs_len)
{
	if (len < IPR_CTL_HEADER_LEN)
		return -EBADMSG;
	hdr->version = msg[0];
	hdr->kind = msg[1];
	hdr->flags = msg[2];
	hdr->status = msg[3];
	hdr->id = get_u32(msg + 4);
	if (hdr->version != IPR_CTL_VERSION)
		return -EPROTONOSUPPORT;
	if (len > IPR_CTL_MSG_MAX)
		return -EBADMSG;
	*attrs = msg + IPR_CTL_HEADER_LEN;
	*attrs_len = len - IPR_CTL_HEADER_LEN;
	return check_framing(*attrs, *attrs_len, 0);
}

int ipr_ctl_read_ip(const struct ipr_ctl_attr *attr, int *family, uint8_t out[16])
{
	if (attr->len == 4) {
		*family = AF_INET;
	} else if (attr->len == 16) {
		*family = AF_INET6;
	} else {
		return -EBADMSG;
	}
	memset(out, 0, 16);
	memcpy(out, attr->value, attr->len);
	return 0;
}

void ipr_ctl_put_counter(struct ipr_ctl_builder *b, const char *name, uint64_t value)
{
	size_t mark = ipr_ctl_nest_begin(b, IPR_CTL_A_COUNTER);

	ipr_ctl_put_text(b, IPR_CTL_A_TEXT, name);
	ipr_ctl_put_u64(b, IPR_CTL_A_VALUE, value);
	ipr_ctl_nest_end(b, mark);
}

int ipr_ctl_read_range(const struct ipr_ctl_attr *attr, int *family, uint8_t prefix[16],
		       unsigned *len)
{
	struct ipr_ctl_attr addr;
	unsigned bits;

	if (attr->len < 1)
		return -EBADMSG;
	addr = (struct ipr_ctl_attr){ attr->type, (uint16_t)(attr->len - 1), attr->value + 1 };
	if (ipr_ctl_read_ip(&addr, family, prefix) < 0)
		return -EBADMSG;
	bits = attr->value[0];
	if (bits > addr.len * 8u)
		return -EBADMSG;
	*len = bits;
	return 0;
}

void ipr_ctl_put_range(struct ipr_ctl_builder *b, uint16_t type, int family, const uint8_t *prefix,
		       unsigned len)
{
	uint8_t value[17];
	size_t n = family == AF_INET ? 4 : 16;

	value[0] = (uint8_t)len;
	memcpy(value + 1, prefix, n);
	ipr_ctl_put(b, type, value, n + 1);
}

/* Text attributes: 1..max bytes, printable ASCII only (they end up in logs and terminals). */
static int read_text(const struct ipr_ctl_attr *attr, char *out, size_t max)
{
	if (attr->len == 0 || attr->len > max)
		return -EBADMSG;
	for (size_t i = 0; i < attr->len; i++) {
		if (attr->value[i] < 0x20 || attr->value[i] > 0x7e)
			return -EBADMSG;
	}
	memcpy(out, attr->value, attr->len);
	out[attr->len] = '\0';
	return 0;
}

/* Names must arrive canonical (lower case, no trailing dot): what is stored is what was sent. */
static int read_name(const struct ipr_ctl_attr *attr, char out[IPR_NAME_MAX + 1])
{
	if (attr->len == 0 || attr->len > IPR_NAME_MAX)
		return -EBADMSG;
	if (ipr_name_parse((const char *)attr->value, attr->len, out, NULL) < 0 ||
	    memcmp(out, attr->value, attr->len) != 0 || out[attr->len] != '\0')
		return -EBADMSG;
	return 0;
}

static int read_fixed(const struct ipr_ctl_attr *attr, size_t want)
{
	return attr->len == want ? 0 : -EBADMSG;
}

static int read_u64(const struct ipr_ctl_attr *attr, uint64_t *out)
{
	if (read_fixed(attr, 8) < 0)
		return -EBADMSG;
	*out = get_u64(attr->value);
	return 0;
}

static int read_field(const struct ipr_ctl_attr *attr, struct ipr_ctl_fields *f)
{
	switch (attr->type) {
	case IPR_CTL_A_CONTEXT:
		return ipr_ctl_read_ip(attr, &f->context_family, f->context);
	case IPR_CTL_A_ENCODED:
		return ipr_ctl_read_ip(attr, &f->encoded_family, f->encoded);
	case IPR_CTL_A_LOCAL:
		return ipr_ctl_read_ip(attr, &f->local_family, f->local);
	case IPR_CTL_A_CLIENT:
		return ipr_ctl_read_ip(attr, &f->client_family, f->client);
	case IPR_CTL_A_REF:
		if (read_fixed(attr, 16) < 0)
			return -EBADMSG;
		f->ref = ipr_ref_from_bytes(attr->value);
		return 0;
	case IPR_CTL_A_NAME:
		return read_name(attr, f->name);
	case IPR_CTL_A_CONTEXT_NAME:
		return read_name(attr, f->context_name);
	case IPR_CTL_A_FAMILY:
		if (read_fixed(attr, 1) < 0 || (attr->value[0] != 4 && attr->value[0] != 6))
			return -EBADMSG;
		f->family = attr->value[0];
		return 0;
	case IPR_CTL_A_MAP_KIND:
		if (read_fixed(attr, 1) < 0 || attr->value[0] < IPR_MAP_PUBLISHED ||
		    attr->value[0] > IPR_MAP_STATIC_EXTERNAL)
			return -EBADMSG;
		f->map_kind = attr->value[0];
		return 0;
	case IPR_CTL_A_TTL:
		if (read_fixed(attr, 4) < 0)
			return -EBADMSG;
		f->ttl = get_u32(attr->value);
		return 0;
	case IPR_CTL_A_EXPIRES:
		return read_u64(attr, &f->expires);
	case IPR_CTL_A_GENERATION:
		return read_u64(attr, &f->generation);
	case IPR_CTL_A_CURSOR:
		return read_u64(attr, &f->cursor);
	case IPR_CTL_A_VALUE:
		return read_u64(attr, &f->value);
	case IPR_CTL_A_SOURCE:
		return read_text(attr, f->source, IPR_CTL_TEXT_MAX);
	case IPR_CTL_A_MESSAGE:
		return read_text(attr, f->message, IPR_CTL_TEXT_MAX);
	case IPR_CTL_A_TEXT:
		return read_text(attr, f->text, IPR_CTL_TEXT_MAX);
	case IPR_CTL_A_REPLIED:
		return read_fixed(attr, 0);
	}
	return 0;
}

int ipr_ctl_fields_parse(const uint8_t *attrs, size_t len, struct ipr_ctl_fields *fields,
			 struct ipr_err *err)
{
	struct ipr_ctl_fields f;
	struct ipr_ctl_iter it;
	struct ipr_ctl_attr attr;
	int rc;

	memset(&f, 0, sizeof(f));
	ipr_ctl_iter_init(&it, attrs, len);
	while ((rc = ipr_ctl_iter_next(&it, &attr)) > 0) {
		size_t column = (size_t)(attr.value - attrs) - IPR_CTL_ATTR_HEAD + 1;

		if (attr.type == IPR_CTL_A_MAPPING) {
			f.mappings++;
			continue;
		}
		if (attr.type == IPR_CTL_A_COUNTER) {
			f.counters++;
			continue;
		}
		if (attr.type == IPR_CTL_A_RANGE || attr.type == IPR_CTL_A_GATEWAY) {
			int family;
			uint8_t addr[16];
			unsigned bits;

			rc = attr.type == IPR_CTL_A_RANGE
				     ? ipr_ctl_read_range(&attr, &family, addr, &bits)
				     : ipr_ctl_read_ip(&attr, &family, addr);
			if (rc < 0)
				return ipr_fail(err, EBADMSG, column,
						"attribute with a bad length or value");
			if (attr.type == IPR_CTL_A_RANGE)
				f.ranges++;
			else
				f.gateways++;
			continue;
		}
		if (attr.type == 0 || attr.type > IPR_CTL_A_MAX)
			continue; /* from a newer peer: not ours to judge */
		if (f.present & (1u << attr.type))
			return ipr_fail(err, EBADMSG, column, "attribute given twice");
		if (read_field(&attr, &f) < 0)
			return ipr_fail(err, EBADMSG, column,
					"attribute with a bad length or value");
		f.present |= 1u << attr.type;
	}
	if (rc < 0)
		return ipr_fail(err, EBADMSG, (size_t)(it.pos - attrs) + 1,
				"attribute runs past the end of the message");
	*fields = f;
	return 0;
}

void ipr_ctl_build(struct ipr_ctl_builder *b, uint8_t *buf, size_t cap, uint8_t kind,
		   uint8_t status, uint32_t id)
{
	b->buf = buf;
	b->cap = cap < IPR_CTL_MSG_MAX ? cap : IPR_CTL_MSG_MAX;
	b->len = 0;
	b->overflow = b->cap < IPR_CTL_HEADER_LEN;
	if (b->overflow)
		return;
	buf[0] = IPR_CTL_VERSION;
	buf[1] = kind;
	buf[2] = 0;
	buf[3] = status;
	set_u32(buf + 4, id);
	b->len = IPR_CTL_HEADER_LEN;
}

void ipr_ctl_set_flags(struct ipr_ctl_builder *b, uint8_t flags)
{
	if (b->len >= IPR_CTL_HEADER_LEN)
		b->buf[2] = flags;
}

void ipr_ctl_put(struct ipr_ctl_builder *b, uint16_t type, const void *value, size_t len)
{
	if (b->overflow || len > UINT16_MAX || b->cap - b->len < IPR_CTL_ATTR_HEAD + len) {
		b->overflow = true;
		return;
	}
	set_u16(b->buf + b->len, type);
	set_u16(b->buf + b->len + 2, (uint16_t)len);
	if (len)
		memcpy(b->buf + b->len + IPR_CTL_ATTR_HEAD, value, len);
	b->len += IPR_CTL_ATTR_HEAD + len;
}

void ipr_ctl_put_u8(struct ipr_ctl_builder *b, uint16_t type, uint8_t value)
{
	ipr_ctl_put(b, type, &value, 1);
}

void ipr_ctl_put_u32(struct ipr_ctl_builder *b, uint16_t type, uint32_t value)
{
	uint8_t v[4];

	set_u32(v, value);
	ipr_ctl_put(b, type, v, sizeof(v));
}

void ipr_ctl_put_u64(struct ipr_ctl_builder *b, uint16_t type, uint64_t value)
{
	uint8_t v[8];

	set_u32(v, (uint32_t)(value >> 32));
	set_u32(v + 4, (uint32_t)value);
	ipr_ctl_put(b, type, v, sizeof(v));
}

void ipr_ctl_put_ref(struct ipr_ctl_builder *b, uint16_t type, const struct ipr_ref *ref)
{
	uint8_t v[16];

	ipr_ref_to_bytes(ref, v);
	ipr_ctl_put(b, type, v, sizeof(v));
}

void ipr_ctl_put_ip(struct ipr_ctl_builder *b, uint16_t type, int family, const uint8_t *addr)
{
	ipr_ctl_put(b, type, addr, family == AF_INET ? 4 : 16);
}

void ipr_ctl_put_text(struct ipr_ctl_builder *b, uint16_t type, const char *text)
{
	size_t len = strlen(text);

	ipr_ctl_put(b, type, text, len > IPR_CTL_TEXT_MAX ? IPR_CTL_TEXT_MAX : len);
}

size_t ipr_ctl_nest_begin(struct ipr_ctl_builder *b, uint16_t type)
{
	size_t mark = b->len;

	ipr_ctl_put(b, type, NULL, 0);
	return mark;
}

void ipr_ctl_nest_end(struct ipr_ctl_builder *b, size_t mark)
{
	size_t len;

	if (b->overflow)
		return;
	len = b->len - mark - IPR_CTL_ATTR_HEAD;
	if (len > UINT16_MAX) {
		b->overflow = true;
		return;
	}
	set_u16(b->buf + mark + 2, (uint16_t)len);
}

int ipr_ctl_finish(struct ipr_ctl_builder *b, size_t *len)
{
	if (b->overflow)
		return -EMSGSIZE;
	*len = b->len;
	return 0;
}

const char *ipr_ctl_status_text(uint8_t status)
{
	static const char *const texts[] = {
		[IPR_CTL_OK] = "ok",
		[IPR_CTL_E_MALFORMED] = "malformed message",
		[IPR_CTL_E_VERSION] = "unsupported protocol version",
		[IPR_CTL_E_KIND] = "unknown request",
		[IPR_CTL_E_INVALID] = "invalid request",
		[IPR_CTL_E_NOT_FOUND] = "no such mapping",
		[IPR_CTL_E_EXHAUSTED] = "no free value left in the range",
		[IPR_CTL_E_NO_RANGE] = "no encoded range of that family",
		[IPR_CTL_E_STORE] = "the store could not commit",
		[IPR_CTL_E_CONFLICT] = "the value is in use by another mapping",
		[IPR_CTL_E_DENIED] = "not allowed",
		[IPR_CTL_E_BUSY] = "busy",
		[IPR_CTL_E_SOURCES] = "errors in the published sources",
		[IPR_CTL_E_UNUSABLE] = "the address cannot be used there",
		[IPR_CTL_E_QUOTA] = "this client's share of new allocations is used up for now",
	};

	if (status < sizeof(texts) / sizeof(texts[0]) && texts[status])
		return texts[status];
	return "unknown error";
}
