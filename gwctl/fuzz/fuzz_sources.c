/* Fuzzes the sources loader: a zone pair and a hosts file in, only checked mappings out. */
/*
 * Input: public zone text, a NUL byte, internal zone text, a NUL byte, hosts text (missing
 * parts are empty). Registered in gwctl/fuzz/meson.build like fuzz_config, with the loader's
 * dependencies (ldns, libsodium), e.g.:
 *
 *   sources = ['fuzz_sources.c']
 *   if fuzzing
 *     exe = executable('fuzz_sources', sources,
 *       include_directories: include_directories('../../core/fuzz'),
 *       dependencies: gwctl_sources_dep, link_args: ['-fsanitize=fuzzer'])
 *   else
 *     exe = executable('fuzz_sources', sources + [core_fuzz / 'replay_main.c'],
 *       include_directories: include_directories('../../core/fuzz'),
 *       dependencies: gwctl_sources_dep)
 *   endif
 *   fuzz_targets += [['gwctl-sources', exe, meson.current_source_dir() / 'corpus' / 'sources']]
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "sources.h"

static void context(const char *text, struct ipr_context *out)
{
	FUZZ_CHECK(ipr_context_parse(text, strlen(text), out, NULL) == 0);
}

/* The daemon's defaults, a gateway with an IPv4, an IPv6 and a name context; no $INCLUDE. */
static void config(struct sources_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	context("198.51.100.1", &cfg->gateways[0]);
	context("2001:db8:100::1", &cfg->gateways[1]);
	context("gw.example.com", &cfg->gateways[2]);
	cfg->gateway_count = 3;
	cfg->dynamic_min = ipr_ref_from_u64(UINT64_C(1) << 32);
	cfg->dynamic_max = ipr_ref_from_u64((UINT64_C(1) << 56) - 1);
	cfg->encoded[0] = (struct sources_range){ true, { AF_INET, { 10, 240 }, 12 } };
	cfg->encoded[1] =
		(struct sources_range){ true, { AF_INET6, { 0xfd, 0xee, 0xee, 0xee }, 64 } };
	cfg->no_include = true;
}

struct part {
	const char *text;
	size_t len;
	unsigned lines;
};

static const char *const names[3] = { "public.zone", "internal.zone", "hosts" };

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static bool in_prefix(const struct sources_range *r, const uint8_t *address, unsigned width)
{
	unsigned length = r->prefix.len < width ? r->prefix.len : width;

	/* an oracle of its own, bit by bit, rather than core's ipr_prefix_contains */
	for (unsigned i = 0; i < length; i++)
		if (((address[i / 8] ^ r->prefix.addr[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static bool ours(const struct sources_config *cfg, const struct ipr_context *c)
{
	for (size_t i = 0; i < cfg->gateway_count; i++)
		if (ipr_context_equal(&cfg->gateways[i], c))
			return true;
	return false;
}

static bool ref_less(const struct ipr_ref *a, const struct ipr_ref *b)
{
	return a->hi < b->hi || (a->hi == b->hi && a->lo < b->lo);
}

static void check_mapping(const struct sources_config *cfg, const struct source_set *set, size_t i)
{
	const struct ipr_mapping *m = &set->mappings[i];
	const struct sources_range *r = &cfg->encoded[m->family == AF_INET ? 0 : 1];
	unsigned width = m->family == AF_INET ? 32 : 128;
	struct ipr_ref reserved = ipr_ref_from_u64(SOURCES_REF_RESERVED);

	FUZZ_CHECK(m->family == AF_INET || m->family == AF_INET6);
	FUZZ_CHECK(!ipr_ref_is_null(&m->ref));
	FUZZ_CHECK(m->expires == 0);
	FUZZ_CHECK(terminated(m->name, sizeof(m->name)));
	FUZZ_CHECK(terminated(m->source, sizeof(m->source)) && m->source[0]);
	FUZZ_CHECK(set->places[i].file < set->file_count && set->places[i].line >= 1);
	if (m->kind == IPR_MAP_PUBLISHED) {
		FUZZ_CHECK(!ref_less(&m->ref, &reserved));
		FUZZ_CHECK(ref_less(&m->ref, &cfg->dynamic_min) ||
			   ref_less(&cfg->dynamic_max, &m->ref));
		FUZZ_CHECK(ours(cfg, &m->context));
		FUZZ_CHECK(!in_prefix(r, m->address, width));
	} else {
		FUZZ_CHECK(m->kind == IPR_MAP_STATIC_EXTERNAL);
		FUZZ_CHECK(!ours(cfg, &m->context));
		FUZZ_CHECK(in_prefix(r, m->address, width));
	}
}

static void check_set(const struct sources_config *cfg, const struct source_set *set, int rc,
		      const struct part *parts)
{
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	FUZZ_CHECK((rc == -EINVAL) == (set->error_count > 0));
	FUZZ_CHECK(set->error_count <= SOURCES_ERROR_MAX);
	FUZZ_CHECK(set->count <= SOURCES_MAPPING_MAX);
	for (size_t i = 0; i < set->error_count; i++) {
		const struct source_error *e = &set->errors[i];
		unsigned lines = 0;

		FUZZ_CHECK(terminated(e->file, sizeof(e->file)) && e->file[0]);
		FUZZ_CHECK(terminated(e->reason, sizeof(e->reason)) && e->reason[0]);
		for (int p = 0; p < 3; p++)
			if (strcmp(e->file, names[p]) == 0)
				lines = parts[p].lines;
		FUZZ_CHECK(lines > 0 || e->line == 0);
		FUZZ_CHECK(e->line <= lines);
	}
	for (size_t i = 0; i < set->count; i++)
		check_mapping(cfg, set, i);
}

/* After the conflict check no reference and no encoded address is there twice. */
static void check_unique(const struct source_set *set)
{
	for (size_t i = 0; i < set->count; i++) {
		for (size_t j = i + 1; j < set->count; j++) {
			const struct ipr_mapping *a = &set->mappings[i], *b = &set->mappings[j];
			if (a->kind != b->kind)
				continue;
			if (a->kind == IPR_MAP_PUBLISHED)
				FUZZ_CHECK(!ipr_ref_equal(&a->ref, &b->ref));
			else
				FUZZ_CHECK(a->family != b->family ||
					   memcmp(a->address, b->address, sizeof(a->address)) != 0);
		}
	}
}

static int load(const struct sources_config *cfg, const struct part *parts, struct source_set *set)
{
	int rc = sources_load_zone_text(cfg, names[0], parts[0].text, parts[0].len, names[1],
					parts[1].text, parts[1].len, set);

	if (rc == -ENOMEM)
		return rc;
	check_set(cfg, set, rc, parts);
	rc = sources_load_hosts_text(cfg, names[2], parts[2].text, parts[2].len, set);
	if (rc == -ENOMEM)
		return rc;
	check_set(cfg, set, rc, parts);
	rc = sources_check_conflicts(cfg, set);
	if (rc == -ENOMEM)
		return rc;
	check_set(cfg, set, rc, parts);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sources_config cfg;
	struct source_set set = { 0 }, again = { 0 };
	struct part parts[3] = { { "", 0, 0 }, { "", 0, 0 }, { "", 0, 0 } };
	const char *text = (const char *)data;
	size_t start = 0, count, errors;
	int rc;

	for (int p = 0; p < 3 && start <= size; p++) {
		const char *nul = p < 2 && size ? memchr(text + start, '\0', size - start) : NULL;
		size_t end = nul ? (size_t)(nul - text) : size;

		parts[p].text = text + start;
		parts[p].len = end - start;
		for (size_t i = 0; i < parts[p].len; i++)
			parts[p].lines += parts[p].text[i] == '\n';
		parts[p].lines += parts[p].len > 0;
		start = end + 1;
		if (!nul)
			break;
	}
	config(&cfg);
	rc = load(&cfg, parts, &set);
	if (rc != -ENOMEM) {
		check_unique(&set);
		FUZZ_CHECK(set.zone_digest_count == 1 && set.hosts_digest_count == 1);
		/* a second conflict check finds nothing new */
		count = set.count;
		errors = set.error_count;
		FUZZ_CHECK(sources_check_conflicts(&cfg, &set) == rc);
		FUZZ_CHECK(set.count == count && set.error_count == errors);
		/* the same input gives the same result */
		if (load(&cfg, parts, &again) == rc) {
			FUZZ_CHECK(again.count == set.count &&
				   again.error_count == set.error_count);
			FUZZ_CHECK(memcmp(again.zone_digests, set.zone_digests,
					  sizeof(set.zone_digests)) == 0);
			FUZZ_CHECK(memcmp(again.hosts_digests, set.hosts_digests,
					  sizeof(set.hosts_digests)) == 0);
		}
	}
	source_set_free(&set);
	source_set_free(&again);
	return 0;
}
