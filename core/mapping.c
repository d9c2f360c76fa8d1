/* Carrying mappings in control messages, the same way in the daemon, the CLI and the dataplane. */
#include "mapping.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

void ipr_mapping_put(struct ipr_ctl_builder *b, const struct ipr_mapping *m)
{
	ipr_ctl_put_u8(b, IPR_CTL_A_MAP_KIND, (uint8_t)m->kind);
	ipr_ctl_put_ip(b, ipr_mapping_is_local(m) ? IPR_CTL_A_LOCAL : IPR_CTL_A_ENCODED, m->family,
		       m->address);
	switch (m->context.kind) {
	case IPR_CONTEXT_IPV4:
		ipr_ctl_put_ip(b, IPR_CTL_A_CONTEXT, AF_INET, m->context.ipv4);
		break;
	case IPR_CONTEXT_IPV6:
		ipr_ctl_put_ip(b, IPR_CTL_A_CONTEXT, AF_INET6, m->context.ipv6);
		break;
	case IPR_CONTEXT_NAME:
		ipr_ctl_put_text(b, IPR_CTL_A_CONTEXT_NAME, m->context.name);
		break;
	}
	ipr_ctl_put_ref(b, IPR_CTL_A_REF, &m->ref);
	if (m->name[0])
		ipr_ctl_put_text(b, IPR_CTL_A_NAME, m->name);
	if (m->expires)
		ipr_ctl_put_u64(b, IPR_CTL_A_EXPIRES, (uint64_t)m->expires);
	if (m->source[0])
		ipr_ctl_put_text(b, IPR_CTL_A_SOURCE, m->source);
}

int ipr_mapping_from_fields(const struct ipr_ctl_fields *f, struct ipr_mapping *m)
{
	struct ipr_mapping out;
	bool local;

	memset(&out, 0, sizeof(out));
	if (!ipr_ctl_has(f, IPR_CTL_A_MAP_KIND) || !ipr_ctl_has(f, IPR_CTL_A_REF))
		return -EINVAL;
	out.kind = (enum ipr_mapping_kind)f->map_kind;
	local = ipr_mapping_is_local(&out);
	if (local && ipr_ctl_has(f, IPR_CTL_A_LOCAL)) {
		out.family = f->local_family;
		memcpy(out.address, f->local, 16);
	} else if (!local && ipr_ctl_has(f, IPR_CTL_A_ENCODED)) {
		out.family = f->encoded_family;
		memcpy(out.address, f->encoded, 16);
	} else {
		return -EINVAL;
	}
	if (ipr_ctl_has(f, IPR_CTL_A_CONTEXT)) {
		out.context.kind =
			f->context_family == AF_INET ? IPR_CONTEXT_IPV4 : IPR_CONTEXT_IPV6;
		memcpy(out.context.ipv6, f->context, 16);
	} else if (ipr_ctl_has(f, IPR_CTL_A_CONTEXT_NAME)) {
		out.context.kind = IPR_CONTEXT_NAME;
		memcpy(out.context.name, f->context_name, sizeof(out.context.name));
	} else {
		return -EINVAL;
	}
	out.ref = f->ref;
	memcpy(out.name, f->name, sizeof(out.name));
	out.expires = (int64_t)(f->expires > INT64_MAX ? INT64_MAX : f->expires);
	memcpy(out.source, f->source, sizeof(out.source));
	*m = out;
	return 0;
}

const char *ipr_mapping_kind_name(enum ipr_mapping_kind kind)
{
	switch (kind) {
	case IPR_MAP_PUBLISHED:
		return "published";
	case IPR_MAP_DYNAMIC_LOCAL:
		return "dynamic local";
	case IPR_MAP_DYNAMIC_REMOTE:
		return "dynamic remote";
	case IPR_MAP_STATIC_EXTERNAL:
		return "static external";
	}
	return "unknown";
}
