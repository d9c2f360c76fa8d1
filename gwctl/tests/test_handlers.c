/* Unit tests of the request handlers on a real store, with the clock as a link seam. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "alloc.h"
#include "ctl_client.h"
#include "service.h"
#include "store_engine.h"

/* Overrides the weak definition in service.c: leases run on this clock. */
static int64_t fake_now = 1000000;
int64_t service_now(void)
{
	return fake_now;
}

struct fixture {
	char dir[64];
	struct store *store;
	struct service svc;
	uint8_t reply[IPR_CTL_MSG_MAX];
	struct ipr_ctl_reply decoded;
};

static int setup_with(void **state, const char *range4, unsigned len4)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct gwctl_config cfg;
	char path[128], msg[512];

	fake_now = 1000000;
	strcpy(fx->dir, "/tmp/ipref-handlers-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(path, sizeof(path), "%s/gw.db", fx->dir);
	test_store_reset();
	assert_int_equal(test_store_open(path, &fx->store, msg, sizeof(msg)), 0);
	config_defaults(&cfg);
	cfg.encoded_ipv6.enabled = false;
	assert_int_equal(inet_pton(AF_INET, range4, cfg.encoded_ipv4.addr), 1);
	cfg.encoded_ipv4.length = len4;
	cfg.lease_secs = 100;
	cfg.quarantine_secs = 50;
	cfg.gateway_count = 1;
	cfg.gateways[0].family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "198.51.100.1", cfg.gateways[0].addr), 1);
	assert_int_equal(service_init(&fx->svc, &cfg, fx->store), 0);
	*state = fx;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, "10.240.0.0", 12);
}

static int setup_tiny(void **state)
{
	return setup_with(state, "10.0.0.0", 30); /* one usable address: 10.0.0.2 */
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[160];

	service_deinit(&fx->svc);
	store_close(fx->store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* Runs one request in the open transaction (a batch's) and decodes the reply. */
static uint8_t call_in(struct fixture *fx, struct ipr_ctl_builder *b)
{
	struct ipr_ctl_header hdr;
	const uint8_t *attrs;
	size_t attrs_len, len;
	int rc;

	assert_int_equal(ipr_ctl_finish(b, &len), 0);
	assert_int_equal(ipr_ctl_decode(b->buf, len, &hdr, &attrs, &attrs_len), 0);
	rc = service_handle(&fx->svc, &hdr, attrs, attrs_len, fx->reply, sizeof(fx->reply), NULL);
	assert_true(rc > 0);
	assert_int_equal(ipr_ctl_reply_decode(fx->reply, (size_t)rc, &fx->decoded), 0);
	assert_int_equal(fx->decoded.hdr.id, hdr.id);
	assert_int_equal(fx->decoded.hdr.kind, hdr.kind | IPR_CTL_REPLY);
	return fx->decoded.hdr.status;
}

/* Runs one request in its own transaction, as a batch of one, and decodes the reply. */
static uint8_t call(struct fixture *fx, struct ipr_ctl_builder *b)
{
	uint8_t status;

	assert_int_equal(store_begin(fx->store), 0);
	status = call_in(fx, b);
	assert_int_equal(store_commit(fx->store), 0);
	return status;
}

/* GET_EA for context + ref, in the open transaction when in_batch, else in its own. */
static uint8_t get_ea_how(struct fixture *fx, const char *context, uint64_t ref, uint8_t family,
			  uint8_t out[16], bool in_batch)
{
	uint8_t buf[256], ctx[16];
	struct ipr_ctl_builder b;
	struct ipr_ref r = ipr_ref_from_u64(ref);
	uint8_t status;

	assert_int_equal(inet_pton(AF_INET, context, ctx), 1);
	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_GET_EA, 0, 42);
	ipr_ctl_put_ip(&b, IPR_CTL_A_CONTEXT, AF_INET, ctx);
	ipr_ctl_put_ref(&b, IPR_CTL_A_REF, &r);
	if (family)
		ipr_ctl_put_u8(&b, IPR_CTL_A_FAMILY, family);
	status = in_batch ? call_in(fx, &b) : call(fx, &b);
	if (status == IPR_CTL_OK && out)
		memcpy(out, fx->decoded.fields.encoded, 16);
	return status;
}

static uint8_t get_ea(struct fixture *fx, const char *context, uint64_t ref, uint8_t family,
		      uint8_t out[16])
{
	return get_ea_how(fx, context, ref, family, out, false);
}

/* The IPv4 range's reserve refilled, on disk (usable without a sync). */
static void refill(struct fixture *fx)
{
	assert_int_equal(test_refill_flushed(fx->store, &fx->svc.range[0], fake_now), 0);
}

/* Reserved values that are mapped too (a value bound but not taken): must be none. */
static int reserved_and_mapped(struct fixture *fx)
{
	int n = test_reserved_and_mapped(fx->store);

	assert_true(n >= 0);
	return n;
}

/* Rows of the reserve, all pools. */
static int reserve_rows(struct fixture *fx)
{
	char rows[1][64];

	assert_int_equal(test_store_sql(fx->store, "SELECT count(*) FROM reserve", NULL, rows, 1),
			 1);
	return atoi(rows[0]);
}

/*
 * A batch of new names and names asked again, from the reserve, in one transaction (on
 * PostgreSQL each bound by the statement that looks it up, then taken): one value each, the
 * same answer when asked again, and each value bound left the reserve, one row a name (an odd
 * number of names: a value bound but not taken would be the last one, still reserved).
 */
static void test_get_ea_batch_from_reserve(void **state)
{
	struct fixture *fx = *state;
	uint8_t got[21][16], again[16];
	int before;

	refill(fx);
	before = reserve_rows(fx);
	assert_int_equal(store_begin(fx->store), 0);
	for (int i = 0; i < 21; i++)
		assert_int_equal(get_ea_how(fx, "192.0.2.7", 100 + (uint64_t)i, 4, got[i], true),
				 IPR_CTL_OK);
	for (int i = 0; i < 21; i++) {
		assert_int_equal(get_ea_how(fx, "192.0.2.7", 100 + (uint64_t)i, 4, again, true),
				 IPR_CTL_OK);
		assert_memory_equal(got[i], again, 4);
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(got[i], got[j], 4);
	}
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(fx->svc.counters.allocated_encoded, 21);
	assert_int_equal(reserved_and_mapped(fx), 0);
	assert_int_equal(reserve_rows(fx), before - 21);
}

/*
 * The reserve's next value mapped (by hand, say) after the batch read it ahead as free: the
 * next new name gets another value and no store failure; the one mapped leaves the reserve.
 */
static void test_get_ea_value_mapped_meanwhile(void **state)
{
	struct fixture *fx = *state;
	uint8_t first[16], second[16], hand[16];
	char rows[1][64];

	refill(fx);
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(get_ea_how(fx, "192.0.2.7", 1, 4, first, true), IPR_CTL_OK);
	assert_int_equal(test_store_sql(fx->store,
					"SELECT value FROM reserve ORDER BY id LIMIT 1 OFFSET 1",
					NULL, rows, 1),
			 1);
	assert_int_equal(inet_pton(AF_INET, rows[0] + strlen("encoded:"), hand), 1);
	assert_int_equal(
		test_store_sql(fx->store,
			       "INSERT INTO remote_mapping (kind, encoded, family, context,"
			       " ref, source, created)"
			       " VALUES (4, substr(?1, 9), 4, '203.0.113.5', '77', 'test', 0)",
			       rows[0], NULL, 0),
		0);
	assert_int_equal(get_ea_how(fx, "192.0.2.7", 2, 4, second, true), IPR_CTL_OK);
	assert_memory_not_equal(second, hand, 4);
	assert_memory_not_equal(second, first, 4);
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(reserved_and_mapped(fx), 0);
}

static void test_get_ea_is_stable(void **state)
{
	struct fixture *fx = *state;
	uint8_t a[16], b[16], c[16];

	assert_int_equal(get_ea(fx, "192.0.2.7", 2466, 4, a), IPR_CTL_OK);
	assert_int_equal(fx->decoded.fields.map_kind, IPR_MAP_DYNAMIC_REMOTE);
	assert_int_equal(fx->decoded.fields.ttl, 100);
	assert_int_equal(fx->svc.pending_count, 1);
	assert_int_equal(get_ea(fx, "192.0.2.7", 2466, 0, b), IPR_CTL_OK);
	assert_memory_equal(a, b, 4);
	assert_int_equal(fx->svc.pending_count, 1); /* nothing new */
	assert_int_equal(get_ea(fx, "192.0.2.7", 2467, 4, c), IPR_CTL_OK);
	assert_memory_not_equal(a, c, 4);
	assert_int_equal(fx->svc.counters.allocated_encoded, 2);
}

static void test_get_ea_errors(void **state)
{
	struct fixture *fx = *state;
	uint8_t buf[64];
	struct ipr_ctl_builder b;

	assert_int_equal(get_ea(fx, "192.0.2.7", 2466, 6, NULL), IPR_CTL_E_NO_RANGE);
	assert_int_equal(get_ea(fx, "192.0.2.7", 0, 4, NULL), IPR_CTL_E_INVALID);
	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_GET_EA, 0, 1);
	assert_int_equal(call(fx, &b), IPR_CTL_E_INVALID);
	assert_non_null(strstr(fx->decoded.fields.message, "CONTEXT"));
	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_GET_EA, 0, 1);
	ipr_ctl_put(&b, IPR_CTL_A_CONTEXT, "123", 3);
	assert_int_equal(call(fx, &b), IPR_CTL_E_MALFORMED);
	ipr_ctl_build(&b, buf, sizeof(buf), 99, 0, 1);
	assert_int_equal(call(fx, &b), IPR_CTL_E_KIND);
	assert_int_equal(fx->svc.counters.malformed, 1);
}

static void test_exhaustion_and_quarantine(void **state)
{
	struct fixture *fx = *state;
	uint8_t a[16];

	assert_int_equal(get_ea(fx, "192.0.2.7", 1, 4, a), IPR_CTL_OK);
	assert_int_equal(a[3], 2);
	assert_int_equal(get_ea(fx, "192.0.2.7", 2, 4, NULL), IPR_CTL_E_EXHAUSTED);
	assert_int_equal(fx->svc.counters.exhausted, 1);

	/* the lease runs out: the sweep removes it and its address rests for 50 s */
	fake_now += 101;
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(service_sweep(&fx->svc, 100), 1);
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(fx->svc.counters.expired, 1);
	assert_int_equal(get_ea(fx, "192.0.2.7", 2, 4, NULL), IPR_CTL_E_EXHAUSTED);
	/* the quarantine ends; the next sweep lets the allocator look again */
	fake_now += 50;
	assert_int_equal(get_ea(fx, "192.0.2.7", 2, 4, NULL), IPR_CTL_E_EXHAUSTED);
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(service_sweep(&fx->svc, 100), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(get_ea(fx, "192.0.2.7", 2, 4, a), IPR_CTL_OK);
	assert_int_equal(a[3], 2);
}

static void test_lease_extension(void **state)
{
	struct fixture *fx = *state;
	uint8_t a[16], buf[128];
	struct ipr_ctl_builder b;
	size_t mark;

	assert_int_equal(get_ea(fx, "192.0.2.7", 1, 4, a), IPR_CTL_OK);
	int64_t first = (int64_t)fx->decoded.fields.expires;
	fake_now += 10; /* less than a quarter lease: no write */
	assert_int_equal(get_ea(fx, "192.0.2.7", 1, 4, a), IPR_CTL_OK);
	assert_int_equal(fx->decoded.fields.expires, first);
	fake_now += 30;
	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_REPORT_USE, 0, 5);
	mark = ipr_ctl_nest_begin(&b, IPR_CTL_A_MAPPING);
	ipr_ctl_put_ip(&b, IPR_CTL_A_ENCODED, AF_INET, a);
	ipr_ctl_nest_end(&b, mark);
	mark = ipr_ctl_nest_begin(&b, IPR_CTL_A_MAPPING); /* unknown: skipped */
	ipr_ctl_put_ip(&b, IPR_CTL_A_ENCODED, AF_INET, (const uint8_t *)"\x0a\x0a\x0a\x0a");
	ipr_ctl_nest_end(&b, mark);
	assert_int_equal(call(fx, &b), IPR_CTL_OK);
	assert_int_equal(fx->decoded.fields.value, 1);
	assert_int_equal(get_ea(fx, "192.0.2.7", 1, 4, a), IPR_CTL_OK);
	assert_int_equal(fx->decoded.fields.expires, fake_now + 100);
	fake_now += 90; /* past the first expiry, within the extended one */
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(service_sweep(&fx->svc, 100), 0);
	assert_int_equal(store_commit(fx->store), 0);
}

static void test_get_ref_and_lookups(void **state)
{
	struct fixture *fx = *state;
	uint8_t buf[128], host[4] = { 172, 17, 1, 75 };
	struct ipr_ctl_builder b;
	struct ipr_ref ref;

	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_GET_REF, 0, 3);
	ipr_ctl_put_ip(&b, IPR_CTL_A_LOCAL, AF_INET, host);
	assert_int_equal(call(fx, &b), IPR_CTL_OK);
	ref = fx->decoded.fields.ref;
	assert_true(ref.hi == 0 && ref.lo >= (1ULL << 32) && ref.lo < (1ULL << 56));
	assert_memory_equal(fx->decoded.fields.context, "\xc6\x33\x64\x01", 4);

	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_LOOKUP_REF, 0, 4);
	ipr_ctl_put_ref(&b, IPR_CTL_A_REF, &ref);
	assert_int_equal(call(fx, &b), IPR_CTL_OK);
	assert_memory_equal(fx->decoded.fields.local, host, 4);

	ref.lo++;
	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_LOOKUP_REF, 0, 4);
	ipr_ctl_put_ref(&b, IPR_CTL_A_REF, &ref);
	assert_int_equal(call(fx, &b), IPR_CTL_E_NOT_FOUND);

	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_LOOKUP_EA, 0, 4);
	ipr_ctl_put_ip(&b, IPR_CTL_A_ENCODED, AF_INET, host);
	assert_int_equal(call(fx, &b), IPR_CTL_E_NOT_FOUND);
}

static uint8_t map(struct fixture *fx, enum ipr_mapping_kind kind, const char *address,
		   const char *context, uint64_t ref)
{
	uint8_t buf[256], a[16], c[16];
	struct ipr_ctl_builder b;
	struct ipr_ref r = ipr_ref_from_u64(ref);

	assert_int_equal(inet_pton(AF_INET, address, a), 1);
	assert_int_equal(inet_pton(AF_INET, context, c), 1);
	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_MAP, 0, 8);
	ipr_ctl_put_u8(&b, IPR_CTL_A_MAP_KIND, (uint8_t)kind);
	ipr_ctl_put_ip(&b, kind == IPR_MAP_PUBLISHED ? IPR_CTL_A_LOCAL : IPR_CTL_A_ENCODED, AF_INET,
		       a);
	ipr_ctl_put_ip(&b, IPR_CTL_A_CONTEXT, AF_INET, c);
	ipr_ctl_put_ref(&b, IPR_CTL_A_REF, &r);
	return call(fx, &b);
}

static void test_map_rules(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(map(fx, IPR_MAP_STATIC_EXTERNAL, "10.240.0.99", "203.0.113.5", 1797),
			 IPR_CTL_OK);
	assert_int_equal(map(fx, IPR_MAP_STATIC_EXTERNAL, "10.240.0.99", "203.0.113.6", 1),
			 IPR_CTL_E_CONFLICT);
	assert_int_equal(map(fx, IPR_MAP_STATIC_EXTERNAL, "10.239.0.1", "203.0.113.5", 1),
			 IPR_CTL_E_INVALID);
	assert_int_equal(map(fx, IPR_MAP_PUBLISHED, "172.17.1.80", "198.51.100.1", 5000),
			 IPR_CTL_OK);
	assert_int_equal(map(fx, IPR_MAP_PUBLISHED, "172.17.1.81", "198.51.100.1", 5000),
			 IPR_CTL_E_CONFLICT);
	assert_int_equal(map(fx, IPR_MAP_PUBLISHED, "172.17.1.81", "198.51.100.1", 1023),
			 IPR_CTL_E_INVALID);
	assert_int_equal(map(fx, IPR_MAP_PUBLISHED, "172.17.1.81", "198.51.100.1", 1ULL << 40),
			 IPR_CTL_E_INVALID);
	assert_int_equal(map(fx, IPR_MAP_DYNAMIC_REMOTE, "10.240.0.98", "203.0.113.5", 1),
			 IPR_CTL_E_INVALID);

	uint8_t buf[64], ea[4] = { 10, 240, 0, 99 };
	struct ipr_ctl_builder b;
	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_UNMAP, 0, 9);
	ipr_ctl_put_ip(&b, IPR_CTL_A_ENCODED, AF_INET, ea);
	assert_int_equal(call(fx, &b), IPR_CTL_OK);
	assert_int_equal(call(fx, &b), IPR_CTL_E_NOT_FOUND);
	/* a static mapping's address is free again at once: it was never handed out by DNS */
	assert_int_equal(map(fx, IPR_MAP_STATIC_EXTERNAL, "10.240.0.99", "203.0.113.7", 7),
			 IPR_CTL_OK);
}

static void test_list_and_stats(void **state)
{
	struct fixture *fx = *state;
	uint8_t buf[64];
	struct ipr_ctl_builder b;
	unsigned total = 0;
	uint64_t cursor = 0;
	bool more = true;

	for (uint64_t i = 1; i <= 100; i++)
		assert_int_equal(get_ea(fx, "192.0.2.7", i, 4, NULL), IPR_CTL_OK);
	while (more) {
		ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_LIST, 0, 10);
		if (cursor)
			ipr_ctl_put_u64(&b, IPR_CTL_A_CURSOR, cursor);
		assert_int_equal(call(fx, &b), IPR_CTL_OK);
		total += fx->decoded.fields.mappings;
		more = fx->decoded.hdr.flags & IPR_CTL_F_MORE;
		cursor = fx->decoded.fields.cursor;
	}
	assert_int_equal(total, 100);

	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_STATS, 0, 11);
	assert_int_equal(call(fx, &b), IPR_CTL_OK);
	assert_true(fx->decoded.fields.counters > 30);
	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_STATUS, 0, 12);
	assert_int_equal(call(fx, &b), IPR_CTL_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_ea_is_stable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_ea_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_ea_batch_from_reserve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_ea_value_mapped_meanwhile, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exhaustion_and_quarantine, setup_tiny,
						teardown),
		cmocka_unit_test_setup_teardown(test_lease_extension, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_ref_and_lookups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_stats, setup, teardown),
	};
	return cmocka_run_group_tests_name("handlers", tests, NULL, NULL);
}
