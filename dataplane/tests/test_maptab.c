/* Unit tests of the mapping tables: every index, replacement, removal under load, use marks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "maptab.h"

static struct ipr_mapping remote4(uint32_t ea, uint32_t gw, uint64_t ref)
{
	struct ipr_mapping m = { .kind = IPR_MAP_DYNAMIC_REMOTE, .family = AF_INET };
	uint32_t be = htonl(ea), gbe = htonl(gw);

	memcpy(m.address, &be, 4);
	m.context.kind = IPR_CONTEXT_IPV4;
	memcpy(m.context.ipv4, &gbe, 4);
	m.ref = (struct ipr_ref){ 0, ref };
	return m;
}

static struct ipr_mapping local6(uint8_t last, uint64_t ref, enum ipr_mapping_kind kind)
{
	struct ipr_mapping m = { .kind = kind, .family = AF_INET6 };

	m.address[0] = 0xfd;
	m.address[15] = last;
	m.context.kind = IPR_CONTEXT_IPV4;
	m.ref = (struct ipr_ref){ 0, ref };
	return m;
}

static void test_lookups(void **state)
{
	struct maptab *t;
	struct ipr_mapping r = remote4(0x0af00707, 0xc6120002, 0x705);
	struct ipr_mapping l = local6(6, 0x705, IPR_MAP_PUBLISHED);
	uint8_t gw[16] = { 198, 18, 0, 2 }, ea[16] = { 10, 240, 7, 7 };
	struct ipr_ref ref = { 0, 0x705 };

	assert_int_equal(maptab_new(16, &t), 0);
	assert_int_equal(maptab_add(t, &r), 0);
	assert_int_equal(maptab_add(t, &l), 0);
	assert_non_null(maptab_find_encoded(t, 4, ea));
	assert_true(ipr_ref_equal(&maptab_find_encoded(t, 4, ea)->ref, &ref));
	assert_null(maptab_find_encoded(t, 6, ea));
	assert_non_null(maptab_find_remote(t, 4, 4, gw, &ref));
	assert_null(maptab_find_remote(t, 6, 4, gw, &ref));
	assert_non_null(maptab_find_ref(t, &ref));
	assert_int_equal(maptab_find_ref(t, &ref)->addr[15], 6);
	assert_non_null(maptab_find_local(t, 6, l.address));
	/* an addition arriving twice replaces, never duplicates */
	assert_int_equal(maptab_add(t, &r), 0);
	assert_int_equal(maptab_add(t, &l), 0);
	assert_int_equal(maptab_remote_count(t), 1);
	assert_int_equal(maptab_local_count(t), 1);
	assert_int_equal(maptab_remove(t, &r), 0);
	assert_int_equal(maptab_remove(t, &r), -ENOENT);
	assert_null(maptab_find_remote(t, 4, 4, gw, &ref));
	assert_int_equal(maptab_remove(t, &l), 0);
	assert_null(maptab_find_local(t, 6, l.address));
	maptab_free(t);
	maptab_free(NULL);
}

/* A host with a dynamic and a published reference goes out under the published one. */
static void test_published_first(void **state)
{
	struct maptab *t;
	struct ipr_mapping dyn = local6(9, 5000, IPR_MAP_DYNAMIC_LOCAL);
	struct ipr_mapping pub = local6(9, 2466, IPR_MAP_PUBLISHED);
	struct ipr_mapping pub2 = local6(9, 2467, IPR_MAP_PUBLISHED);

	assert_int_equal(maptab_new(8, &t), 0);
	assert_int_equal(maptab_add(t, &dyn), 0);
	assert_int_equal(maptab_find_local(t, 6, dyn.address)->ref.lo, 5000);
	assert_int_equal(maptab_add(t, &pub), 0);
	assert_int_equal(maptab_add(t, &pub2), 0);
	assert_int_equal(maptab_find_local(t, 6, dyn.address)->ref.lo, 2466);
	/* every reference still leads inbound to the host */
	assert_non_null(maptab_find_ref(t, &dyn.ref));
	assert_non_null(maptab_find_ref(t, &pub2.ref));
	assert_int_equal(maptab_remove(t, &pub), 0);
	assert_int_equal(maptab_find_local(t, 6, dyn.address)->ref.lo, 2467);
	assert_int_equal(maptab_remove(t, &pub2), 0);
	assert_int_equal(maptab_find_local(t, 6, dyn.address)->ref.lo, 5000);
	maptab_free(t);
}

/* Filling the pool, removing every other entry and adding again keeps every probe run intact. */
static void test_full_and_churn(void **state)
{
	enum { N = 4096 };
	struct maptab *t;
	struct ipr_mapping m;

	assert_int_equal(maptab_new(N, &t), 0);
	for (uint32_t i = 0; i < N; i++) {
		m = remote4(0x0a000000 + i, 0xc6120002, 1024 + i);
		assert_int_equal(maptab_add(t, &m), 0);
	}
	m = remote4(0x0b000000, 0xc6120002, 99);
	assert_int_equal(maptab_add(t, &m), -ENOSPC);
	for (uint32_t i = 0; i < N; i += 2) {
		m = remote4(0x0a000000 + i, 0xc6120002, 1024 + i);
		assert_int_equal(maptab_remove(t, &m), 0);
	}
	for (uint32_t i = 0; i < N; i++) {
		uint32_t be = htonl(0x0a000000 + i);
		struct maptab_remote *r = maptab_find_encoded(t, 4, (uint8_t *)&be);
		if (i % 2)
			assert_true(r && r->ref.lo == 1024 + i);
		else
			assert_null(r);
	}
	for (uint32_t i = 0; i < N; i += 2) {
		m = remote4(0x0c000000 + i, 0xc6120003, 1024 + i);
		assert_int_equal(maptab_add(t, &m), 0);
	}
	assert_int_equal(maptab_remote_count(t), N);
	for (uint32_t i = 0; i < N; i += 2) {
		uint8_t gw[4] = { 198, 18, 0, 3 };
		struct ipr_ref ref = { 0, 1024 + i };
		assert_non_null(maptab_find_remote(t, 4, 4, gw, &ref));
	}
	maptab_clear(t);
	assert_int_equal(maptab_remote_count(t), 0);
	m = remote4(0x0a000001, 0xc6120002, 1025);
	assert_int_equal(maptab_add(t, &m), 0);
	maptab_free(t);
}

static bool count_remote(void *ctx, const struct maptab_remote *r)
{
	(*(unsigned *)ctx)++;
	return true;
}

static bool count_local(void *ctx, const struct maptab_local *l)
{
	(*(unsigned *)ctx) += 100;
	return true;
}

static void test_use_marks(void **state)
{
	struct maptab *t;
	struct ipr_mapping r = remote4(0x0af00707, 0xc6120002, 0x705);
	struct ipr_mapping l = local6(6, 0x705, IPR_MAP_DYNAMIC_LOCAL);
	unsigned seen = 0;
	struct maptab_use_visitor v = { count_remote, count_local, &seen };

	assert_int_equal(maptab_new(16, &t), 0);
	assert_int_equal(maptab_add(t, &r), 0);
	assert_int_equal(maptab_add(t, &l), 0);
	assert_int_equal(maptab_collect_used(t, &v, 10), 0);
	maptab_find_encoded(t, 4, r.address)->used = true;
	maptab_find_ref(t, &l.ref)->used = true;
	assert_int_equal(maptab_collect_used(t, &v, 10), 2);
	assert_int_equal(seen, 101);
	assert_int_equal(maptab_collect_used(t, &v, 10), 0);
	maptab_free(t);
}

/* After a reconnection only what the new snapshot confirms stays. */
static void test_resync(void **state)
{
	struct maptab *t;
	struct ipr_mapping a = remote4(1, 2, 3), b = remote4(4, 2, 5);
	struct ipr_mapping l = local6(6, 0x705, IPR_MAP_PUBLISHED);

	assert_int_equal(maptab_new(16, &t), 0);
	assert_int_equal(maptab_add(t, &a), 0);
	assert_int_equal(maptab_add(t, &b), 0);
	assert_int_equal(maptab_add(t, &l), 0);
	maptab_find_encoded(t, 4, a.address)->port = 4000;
	uint64_t gen = maptab_generation(t);
	assert_null(maptab_find_encoded(t, 4, (uint8_t[16]){ 9 })); /* lookups change nothing */
	assert_int_equal(maptab_generation(t), gen);
	maptab_resync_begin(t);
	assert_non_null(maptab_find_encoded(t, 4, b.address)); /* still usable meanwhile */
	assert_int_equal(maptab_add(t, &a), 0);
	assert_int_equal(maptab_resync_end(t), 2);
	assert_true(maptab_generation(t) != gen); /* flow caches must look again */
	assert_non_null(maptab_find_encoded(t, 4, a.address));
	assert_int_equal(maptab_find_encoded(t, 4, a.address)->port, 4000);
	assert_null(maptab_find_encoded(t, 4, b.address));
	assert_null(maptab_find_ref(t, &l.ref));
	maptab_free(t);
}

static void test_refusals(void **state)
{
	struct maptab *t;
	struct ipr_mapping m = remote4(1, 2, 3);

	assert_int_equal(maptab_new(0, &t), -EINVAL);
	assert_int_equal(maptab_new(4, &t), 0);
	m.family = 0;
	assert_int_equal(maptab_add(t, &m), -EINVAL);
	m.family = AF_INET;
	m.kind = 9;
	assert_int_equal(maptab_add(t, &m), -EINVAL);
	/* a gateway known by name is kept for outbound lookups, which then have no context */
	m.kind = IPR_MAP_STATIC_EXTERNAL;
	m.context.kind = IPR_CONTEXT_NAME;
	strcpy(m.context.name, "gw.example.com");
	assert_int_equal(maptab_add(t, &m), 0);
	assert_int_equal(maptab_find_encoded(t, 4, m.address)->ctx_ver, 0);
	maptab_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),	       cmocka_unit_test(test_published_first),
		cmocka_unit_test(test_full_and_churn), cmocka_unit_test(test_use_marks),
		cmocka_unit_test(test_resync),	       cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
