/* AA records of a TXT RRset, the step each one needs, and the TTL of the synthesised answer. */
#include "synth.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "aa_record.h"

static bool already_taken(const struct synth_txt *out, const struct ipr_addr *rec)
{
	for (size_t i = 0; i < out->count; i++)
		if (ipr_ref_equal(&out->records[i].ref, &rec->ref) &&
		    ipr_context_equal(&out->records[i].context, &rec->context))
			return true;
	return false;
}

int synth_txt_parse(const struct synth_rdata *rdata, size_t n, uint32_t ttl, struct synth_txt *out)
{
	if (!rdata && n > 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->ttl = ttl;

	for (size_t i = 0; i < n; i++) {
		struct ipr_addr rec;
		int rc = ipr_aa_parse_rdata(rdata[i].data, rdata[i].len, &rec, NULL);

		if (rc == -ENOENT)
			out->not_aa++;
		else if (rc == -EBADMSG)
			out->broken++;
		else if (rc < 0)
			out->malformed++;
		else if (ipr_context_check(&rec.context, NULL) != IPR_ADDR_USABLE)
			out->bad_context++;
		else if (already_taken(out, &rec))
			out->duplicates++;
		else if (out->count == SYNTH_AA_MAX)
			out->over_limit++;
		else
			out->records[out->count++] = rec;
	}
	return out->count > 0 ? 0 : -ENOENT;
}

size_t synth_txt_check_site(struct synth_txt *txt, const struct ipr_site *site)
{
	size_t kept = 0, dropped = 0;

	for (size_t i = 0; i < txt->count; i++) {
		if (ipr_context_check(&txt->records[i].context, site) != IPR_ADDR_USABLE) {
			dropped++;
			continue;
		}
		txt->records[kept++] = txt->records[i];
	}
	txt->count = kept;
	txt->bad_context += dropped;
	return dropped;
}

enum ipr_addr_use synth_ip_check(struct synth_ip *ip, const struct ipr_site *site)
{
	struct ipr_context context = { .kind = IPR_CONTEXT_IPV6 };
	enum ipr_addr_use use;

	if (ip->family == AF_INET) {
		context.kind = IPR_CONTEXT_IPV4;
		memcpy(context.ipv4, ip->addr, 4);
	} else {
		memcpy(context.ipv6, ip->addr, 16);
	}
	use = ipr_context_check(&context, site);
	if (context.kind == IPR_CONTEXT_IPV4 && ip->family != AF_INET) {
		memset(ip, 0, sizeof(*ip));
		ip->family = AF_INET;
		memcpy(ip->addr, context.ipv4, 4);
	}
	return use;
}

int synth_plan_record(const struct ipr_addr *record, unsigned families, struct synth_plan *out)
{
	if (families & ~(unsigned)(SYNTH_FAMILY_V4 | SYNTH_FAMILY_V6))
		return -EINVAL;

	switch (record->context.kind) {
	case IPR_CONTEXT_IPV4:
		if (!(families & SYNTH_FAMILY_V4))
			return -ENETUNREACH;
		*out = (struct synth_plan){ .kind = SYNTH_ADDRESS_V4 };
		return 0;
	case IPR_CONTEXT_IPV6:
		if (!(families & SYNTH_FAMILY_V6))
			return -ENETUNREACH;
		*out = (struct synth_plan){ .kind = SYNTH_ADDRESS_V6 };
		return 0;
	case IPR_CONTEXT_NAME:
		/* Only the address types the gateway can use are worth a lookup. */
		if (!families)
			return -ENETUNREACH;
		*out = (struct synth_plan){
			.kind = SYNTH_NEEDS_NAME,
			.lookups = families,
			.name = record->context.name,
		};
		return 0;
	}
	return -EINVAL;
}

/* RFC 2181, 8: a TTL with the most significant bit set is treated as zero. */
static uint32_t dns_ttl(uint32_t ttl)
{
	return (ttl & 0x80000000u) ? 0 : ttl;
}

uint32_t synth_answer_ttl(uint32_t txt_ttl, const uint32_t *name_ttl, uint32_t mapping_ttl)
{
	uint32_t ttl = dns_ttl(txt_ttl);

	if (name_ttl && dns_ttl(*name_ttl) < ttl)
		ttl = dns_ttl(*name_ttl);
	if (mapping_ttl < ttl)
		ttl = mapping_ttl;
	return ttl;
}
