/* Unit tests of allocation under pressure (gwctl/quota.c) through the handlers, on a real store. */
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

#include "ctl_client.h"
#include "service.h"
/* the SQLite engine's tables, read on its connection to check the counts the triggers keep */
#include "store_engine.h"

/* Overrides the weak definition in service.c: leases run on this clock. */
static int64_t fake_now = 1000000;
int64_t service_now(void)
{
	return fake_now;
}

struct fixture {
	char dir[64];
	char path[128];
	struct gwctl_config cfg;
	struct store *store;
	struct service svc;
	uint8_t reply[IPR_CTL_MSG_MAX];
	struct ipr_ctl_reply decoded;
};

static void start(struct fixture *fx)
{
	char msg[512];

	assert_int_equal(test_store_open(fx->path, &fx->store, msg, sizeof(msg)), 0);
	assert_int_equal(service_init(&fx->svc, &fx->cfg, fx->store), 0);
}

static void stop(struct fixture *fx)
{
	service_deinit(&fx->svc);
	store_close(fx->store);
	fx->store = NULL;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct gwctl_config *cfg = &fx->cfg;

	fake_now = 1000000;
	test_store_reset();
	strcpy(fx->dir, "/tmp/ipref-quota-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/gw.db", fx->dir);
	config_defaults(cfg);
	cfg->encoded_ipv6.enabled = false;
	assert_int_equal(inet_pton(AF_INET, "10.240.0.0", cfg->encoded_ipv4.addr), 1);
	cfg->encoded_ipv4.length = 24;
	cfg->lease_secs = 1000;
	cfg->quarantine_secs = 500;
	cfg->probation_secs = 10;
	cfg->client_limit = 4;
	cfg->client_total = 6;
	cfg->inbound_per_peer = 2;
	cfg->inbound_total = 3;
	cfg->inbound_quarantine_secs = 5;
	cfg->gateway_count = 1;
	cfg->gateways[0].family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "198.51.100.1", cfg->gateways[0].addr), 1);
	start(fx);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[160];

	stop(fx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static uint8_t call(struct fixture *fx, struct ipr_ctl_builder *b)
{
	struct ipr_ctl_header hdr;
	const uint8_t *attrs;
	size_t attrs_len, len;
	int rc;

	assert_int_equal(ipr_ctl_finish(b, &len), 0);
	assert_int_equal(ipr_ctl_decode(b->buf, len, &hdr, &attrs, &attrs_len), 0);
	assert_int_equal(store_begin(fx->store), 0);
	rc = service_handle(&fx->svc, &hdr, attrs, attrs_len, fx->reply, sizeof(fx->reply), NULL);
	assert_true(rc > 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(ipr_ctl_reply_decode(fx->reply, (size_t)rc, &fx->decoded), 0);
	return fx->decoded.hdr.status;
}

/* A GET_EA into b (over buf) for context + ref, asked by client as get_ea says. */
static void build_get_ea(struct ipr_ctl_builder *b, uint8_t *buf, size_t size, const char *context,
			 uint64_t ref, const char *client)
{
	struct ipr_ref r = ipr_ref_from_u64(ref);
	uint8_t addr[16];

	ipr_ctl_build(b, buf, size, IPR_CTL_GET_EA, 0, 42);
	assert_int_equal(inet_pton(AF_INET, context, addr), 1);
	ipr_ctl_put_ip(b, IPR_CTL_A_CONTEXT, AF_INET, addr);
	ipr_ctl_put_ref(b, IPR_CTL_A_REF, &r);
	if (client && strcmp(client, "dataplane") == 0) {
		ipr_ctl_put_text(b, IPR_CTL_A_SOURCE, "dataplane");
	} else if (client) {
		assert_int_equal(inet_pton(AF_INET, client, addr), 1);
		ipr_ctl_put_ip(b, IPR_CTL_A_CLIENT, AF_INET, addr);
	}
}

/* GET_EA for context + ref, asked by client (NULL: none) or by the dataplane ("dataplane"). */
static uint8_t get_ea(struct fixture *fx, const char *context, uint64_t ref, const char *client,
		      uint8_t out[16])
{
	uint8_t buf[256];
	struct ipr_ctl_builder b;
	uint8_t status;

	build_get_ea(&b, buf, sizeof(buf), context, ref, client);
	status = call(fx, &b);
	if (status == IPR_CTL_OK && out)
		memcpy(out, fx->decoded.fields.encoded, 16);
	return status;
}

static void report(struct fixture *fx, const uint8_t encoded[16], bool replied)
{
	uint8_t buf[128];
	struct ipr_ctl_builder b;
	size_t mark;

	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_REPORT_USE, 0, 5);
	mark = ipr_ctl_nest_begin(&b, IPR_CTL_A_MAPPING);
	ipr_ctl_put_ip(&b, IPR_CTL_A_ENCODED, AF_INET, encoded);
	if (replied)
		ipr_ctl_put(&b, IPR_CTL_A_REPLIED, "", 0);
	ipr_ctl_nest_end(&b, mark);
	assert_int_equal(call(fx, &b), IPR_CTL_OK);
	assert_int_equal(fx->decoded.fields.value, 1);
}

static void report_use(struct fixture *fx, const uint8_t encoded[16])
{
	report(fx, encoded, true);
}

static void sweep(struct fixture *fx)
{
	assert_int_equal(store_begin(fx->store), 0);
	assert_true(service_sweep(&fx->svc, 100) >= 0);
	assert_int_equal(store_commit(fx->store), 0);
}

static uint64_t counter(struct fixture *fx, const char *name)
{
	uint8_t buf[64];
	struct ipr_ctl_builder b;
	struct ipr_ctl_iter it;
	struct ipr_ctl_attr attr;

	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_STATS, 0, 11);
	assert_int_equal(call(fx, &b), IPR_CTL_OK);
	ipr_ctl_iter_init(&it, fx->decoded.attrs, fx->decoded.attrs_len);
	while (ipr_ctl_iter_next(&it, &attr) > 0) {
		struct ipr_ctl_fields f;

		if (attr.type != IPR_CTL_A_COUNTER)
			continue;
		assert_int_equal(ipr_ctl_fields_parse(attr.value, attr.len, &f, NULL), 0);
		if (strcmp(f.text, name) == 0)
			return f.value;
	}
	fail_msg("no counter %s", name);
	return 0;
}

static bool quarantined(struct fixture *fx, const uint8_t encoded[16])
{
	int rc = store_encoded_quarantined(fx->store, AF_INET, encoded, fake_now);

	assert_true(rc >= 0);
	return rc == 1;
}

/*
 * How many kept hold counts differ from the rows they count: the pools'
 * (schema/007-hold-counts.sql) and hold.client and hold.inbound (schema/005-quota.sql).
 */
static int64_t hold_counts_off(struct fixture *fx)
{
	char off[1][64];

	/* SQL both engines read alike; PostgreSQL keeps a count's row per gateway: summed */
	assert_int_equal(
		test_store_sql(
			fx->store,
			"SELECT (SELECT count(*) FROM (SELECT pool, count(*) AS n FROM quota_hold"
			" GROUP BY pool) q LEFT JOIN hold_counts h USING (pool)"
			" WHERE h.value IS DISTINCT FROM q.n)"
			" + (SELECT count(*) FROM hold_counts h WHERE NOT EXISTS"
			" (SELECT 1 FROM quota_hold q WHERE q.pool = h.pool))"
			" + (SELECT count(*) FROM (SELECT name, sum(value) AS value FROM counts"
			" GROUP BY name) c LEFT JOIN (SELECT 'hold.' || CASE WHEN"
			" pool LIKE 'client:%' THEN 'client' ELSE 'inbound' END AS name,"
			" count(*) AS n FROM quota_hold GROUP BY 1) q USING (name)"
			" WHERE c.name IN ('hold.client', 'hold.inbound')"
			" AND c.value IS DISTINCT FROM coalesce(q.n, 0))",
			NULL, off, 1),
		1);
	return strtoll(off[0], NULL, 10);
}

/* A client's new name is on probation: short lease and TTL, the full lease once used. */
static void test_probation_until_used(void **state)
{
	struct fixture *fx = *state;
	uint8_t a[16], b[16];

	assert_int_equal(get_ea(fx, "192.0.2.7", 1, "192.168.1.10", a), IPR_CTL_OK);
	assert_int_equal(fx->decoded.fields.ttl, 10);
	assert_int_equal(fx->decoded.fields.expires, fake_now + 10);
	/* asked again on probation: the TTL stays a probation one, never the full lease */
	fake_now += 6;
	assert_int_equal(get_ea(fx, "192.0.2.7", 1, "192.168.1.11", b), IPR_CTL_OK);
	assert_memory_equal(a, b, 4);
	assert_int_equal(fx->decoded.fields.ttl, 10);
	/* packets that only came in from the remote host do not end probation */
	report(fx, a, false);
	assert_int_equal(get_ea(fx, "192.0.2.7", 1, "192.168.1.10", b), IPR_CTL_OK);
	assert_int_equal(fx->decoded.fields.ttl, 10);
	report_use(fx, a);
	assert_int_equal(get_ea(fx, "192.0.2.7", 1, "192.168.1.10", b), IPR_CTL_OK);
	assert_int_equal(fx->decoded.fields.ttl, 1000);
	assert_int_equal(counter(fx, "gwctld.resolution.probation"), 1);
	assert_int_equal(counter(fx, "gwctld.resolution.confirmed"), 1);
	assert_int_equal(counter(fx, "gwctld.resolution.held"), 0);
	/* without CLIENT (gwctl encode, a prefetch): the full lease as before */
	assert_int_equal(get_ea(fx, "192.0.2.7", 2, NULL, b), IPR_CTL_OK);
	assert_int_equal(fx->decoded.fields.ttl, 1000);
	assert_int_equal(hold_counts_off(fx), 0);
}

/*
 * Over its limit a client is refused; the values of its probation mappings whose answers ran
 * out rest, still counted, until probation_secs later; another client is not affected.
 */
static void test_client_limit_counts_resting(void **state)
{
	struct fixture *fx = *state;
	uint8_t a[4][16], b[16];

	for (int i = 0; i < 4; i++)
		assert_int_equal(get_ea(fx, "192.0.2.7", 10 + i, "192.168.1.10", a[i]), IPR_CTL_OK);
	assert_int_equal(get_ea(fx, "192.0.2.7", 20, "192.168.1.10", NULL), IPR_CTL_E_QUOTA);
	assert_int_equal(get_ea(fx, "192.0.2.7", 21, "192.168.1.11", b), IPR_CTL_OK);
	assert_int_equal(counter(fx, "gwctld.resolution.over_quota"), 1);
	assert_int_equal(counter(fx, "gwctld.errors.quota"), 1);

	/* the answers have run out: the mappings go, their values rest, the client still full */
	fake_now += 10;
	assert_int_equal(get_ea(fx, "192.0.2.7", 20, "192.168.1.10", NULL), IPR_CTL_E_QUOTA);
	assert_int_equal(counter(fx, "gwctld.resolution.reclaimed"), 4);
	for (int i = 0; i < 4; i++) {
		struct ipr_mapping m;

		assert_int_equal(store_find_encoded(fx->store, AF_INET, a[i], &m), -ENOENT);
		assert_true(quarantined(fx, a[i]));
	}
	/* the rest ends a probation after the lease, not the long quarantine: room again */
	fake_now += 10;
	assert_false(quarantined(fx, a[0]));
	assert_int_equal(get_ea(fx, "192.0.2.7", 20, "192.168.1.10", NULL), IPR_CTL_OK);
	assert_int_equal(hold_counts_off(fx), 0);
}

/* The clients together never hold more than client_total: the rest stays for mappings in use. */
static void test_clients_share_of_range(void **state)
{
	struct fixture *fx = *state;
	uint8_t a[16];

	for (int i = 0; i < 4; i++)
		assert_int_equal(get_ea(fx, "192.0.2.7", 10 + i, "192.168.1.10", a), IPR_CTL_OK);
	assert_int_equal(get_ea(fx, "192.0.2.7", 20, "192.168.1.11", NULL), IPR_CTL_OK);
	assert_int_equal(get_ea(fx, "192.0.2.7", 21, "192.168.1.11", NULL), IPR_CTL_OK);
	assert_int_equal(get_ea(fx, "192.0.2.7", 22, "192.168.1.12", NULL), IPR_CTL_E_QUOTA);
	assert_int_equal(counter(fx, "gwctld.resolution.over_share"), 1);
	assert_int_equal(counter(fx, "gwctld.resolution.held"), 6);
	/* a mapping in use takes no share: its client may go on */
	report_use(fx, a);
	assert_int_equal(get_ea(fx, "192.0.2.7", 22, "192.168.1.12", NULL), IPR_CTL_OK);
	assert_int_equal(hold_counts_off(fx), 0);
}

/* A mapping that carried traffic is never taken early, by reclaim or by the sweep. */
static void test_used_mapping_kept(void **state)
{
	struct fixture *fx = *state;
	uint8_t used[16], m[16];
	struct ipr_mapping found;

	assert_int_equal(get_ea(fx, "192.0.2.7", 1, "192.168.1.10", used), IPR_CTL_OK);
	report_use(fx, used);
	for (int i = 0; i < 3; i++)
		assert_int_equal(get_ea(fx, "192.0.2.7", 10 + i, "192.168.1.10", m), IPR_CTL_OK);
	fake_now += 30;
	sweep(fx);
	for (int i = 0; i < 4; i++)
		(void)get_ea(fx, "192.0.2.7", 20 + i, "192.168.1.10", NULL);
	assert_int_equal(store_find_encoded(fx->store, AF_INET, used, &found), 0);
	assert_int_equal(found.expires, 1000000 + 1000);
	assert_int_equal(hold_counts_off(fx), 0);
}

/* The sweep rests a probation value no longer than an answer could be kept, plus a probation. */
static void test_sweep_rests_probation_briefly(void **state)
{
	struct fixture *fx = *state;
	uint8_t a[16], b[16];

	assert_int_equal(get_ea(fx, "192.0.2.7", 1, "192.168.1.10", a), IPR_CTL_OK);
	assert_int_equal(get_ea(fx, "192.0.2.7", 2, NULL, b), IPR_CTL_OK);
	fake_now += 1000;
	sweep(fx);
	assert_true(quarantined(fx, b)); /* the ordinary one rests the full quarantine */
	assert_false(quarantined(fx, a));
	fake_now += 499;
	assert_true(quarantined(fx, b));
	assert_int_equal(hold_counts_off(fx), 0);
}

/* Holds are in the store: a restarted daemon counts them the same. */
static void test_holds_survive_restart(void **state)
{
	struct fixture *fx = *state;

	for (int i = 0; i < 4; i++)
		assert_int_equal(get_ea(fx, "192.0.2.7", 10 + i, "192.168.1.10", NULL), IPR_CTL_OK);
	stop(fx);
	start(fx);
	assert_int_equal(get_ea(fx, "192.0.2.7", 20, "192.168.1.10", NULL), IPR_CTL_E_QUOTA);
	assert_int_equal(counter(fx, "gwctld.resolution.held"), 4);
}

/*
 * Inbound: reclaimed idle values rest inbound_quarantine_secs and count against the inbound
 * limits meanwhile; room comes back when they end, and a mapping that carried a reply stays.
 */
static void test_inbound_resting_counted(void **state)
{
	struct fixture *fx = *state;
	uint8_t kept[16], idle[16];
	struct ipr_mapping m;

	assert_int_equal(get_ea(fx, "192.0.2.7", 1, "dataplane", kept), IPR_CTL_OK);
	report_use(fx, kept);
	assert_int_equal(get_ea(fx, "192.0.2.8", 1, "dataplane", idle), IPR_CTL_OK);
	assert_int_equal(get_ea(fx, "192.0.2.9", 1, "dataplane", NULL), IPR_CTL_OK);
	/* full (3): the oldest idle one goes to rest, the request is refused */
	assert_int_equal(get_ea(fx, "192.0.2.10", 1, "dataplane", NULL), IPR_CTL_E_BUSY);
	assert_int_equal(store_find_encoded(fx->store, AF_INET, idle, &m), -ENOENT);
	assert_int_equal(counter(fx, "gwctld.inbound.resting"), 1);
	/* the resting value still counts (2 live + 1 resting); with half the pool resting no
	 * more are taken */
	assert_int_equal(get_ea(fx, "192.0.2.10", 1, "dataplane", NULL), IPR_CTL_E_BUSY);
	assert_int_equal(counter(fx, "gwctld.inbound.resting"), 1);
	assert_int_equal(counter(fx, "gwctld.inbound.reclaimed"), 1);
	fake_now += 5;
	assert_int_equal(get_ea(fx, "192.0.2.10", 1, "dataplane", NULL), IPR_CTL_OK);
	assert_int_equal(store_find_encoded(fx->store, AF_INET, kept, &m), 0);
	assert_int_equal(counter(fx, "gwctld.inbound.resting"), 0);
	assert_int_equal(hold_counts_off(fx), 0);
}

/*
 * A value held again for another pool moves between the counts of both pools and of both kinds
 * of pool. It happens when a client's value has ended its rest but its row is not purged yet
 * (the sweep purges; an admission only its own pool) and the value is taken again: by another
 * client, or for a peer whose idle inbound mappings are then reclaimed.
 */
static void test_hold_moves_pool(void **state)
{
	struct fixture *fx = *state;
	struct ipr_mapping m = { .kind = IPR_MAP_DYNAMIC_REMOTE, .family = AF_INET };
	struct quota_limits lim;
	uint64_t resting;
	int64_t until;

	service_quota_limits(&fx->svc, &lim);
	assert_int_equal(inet_pton(AF_INET, "10.240.0.9", m.address), 1);
	m.expires = fake_now + 10;
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(quota_client_hold(fx->store, "client:192.168.1.10", &m, &lim), 0);
	assert_int_equal(quota_client_hold(fx->store, "client:192.168.1.11", &m, &lim), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(hold_counts_off(fx), 0);
	assert_int_equal(counter(fx, "gwctld.resolution.held"), 1);

	/* from a client's pool to a peer's, then back to a client's */
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(quota_inbound_rest(fx->store, "inbound:192.0.2.7", &m, fake_now + 5), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(hold_counts_off(fx), 0);
	assert_int_equal(counter(fx, "gwctld.resolution.held"), 0);
	assert_int_equal(counter(fx, "gwctld.inbound.resting"), 1);
	assert_int_equal(quota_inbound_resting(fx->store, NULL, &resting), 0);
	assert_int_equal(resting, 1);
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(quota_client_hold(fx->store, "client:192.168.1.12", &m, &lim), 0);
	assert_int_equal(store_commit(fx->store), 0);
	assert_int_equal(hold_counts_off(fx), 0);
	assert_int_equal(counter(fx, "gwctld.resolution.held"), 1);
	assert_int_equal(counter(fx, "gwctld.inbound.resting"), 0);

	/* put to rest and purged: the row goes with its counts, none below zero */
	assert_int_equal(store_begin(fx->store), 0);
	assert_int_equal(quota_release(fx->store, &m, fake_now, &until), 0);
	assert_int_equal(store_commit(fx->store), 0);
	fake_now += 100;
	sweep(fx);
	assert_int_equal(hold_counts_off(fx), 0);
	assert_int_equal(counter(fx, "gwctld.resolution.held"), 0);
	assert_int_equal(counter(fx, "gwctld.inbound.resting"), 0);
}

/* One request of a batch: what it asks (client as get_ea's), and what it was answered. */
struct batch_request {
	uint64_t ref;
	const char *client;
	uint8_t status;
	uint8_t encoded[16];
};

#define BATCH_MAX 20

/*
 * A batch as the daemon runs one (server_batch.c), in one transaction: its GET_EAs sent ahead
 * together (on PostgreSQL in one statement), then each answered in its turn.
 */
static void run_batch(struct fixture *fx, struct batch_request *reqs, size_t n)
{
	uint8_t bufs[BATCH_MAX][256];
	struct ipr_ctl_builder b[BATCH_MAX];
	struct service_ahead ahead[BATCH_MAX], *sent[BATCH_MAX];
	size_t lens[BATCH_MAX], k = 0;
	bool wanted = service_ahead_wanted(&fx->svc);

	assert_true(n <= BATCH_MAX);
	assert_int_equal(store_begin(fx->store), 0);
	for (size_t i = 0; i < n; i++) {
		build_get_ea(&b[i], bufs[i], sizeof(bufs[i]), "192.0.2.7", reqs[i].ref,
			     reqs[i].client);
		assert_int_equal(ipr_ctl_finish(&b[i], &lens[i]), 0);
		ahead[i].sent = false;
		if (wanted && service_ahead_prepare(&fx->svc, bufs[i], lens[i], &ahead[i]))
			sent[k++] = &ahead[i];
	}
	if (k)
		assert_int_equal(service_ahead_run(&fx->svc, sent, k), 0);
	for (size_t i = 0; i < n; i++) {
		struct ipr_ctl_header hdr;
		const uint8_t *attrs;
		size_t attrs_len;
		int rc;

		assert_int_equal(ipr_ctl_decode(bufs[i], lens[i], &hdr, &attrs, &attrs_len), 0);
		rc = service_handle(&fx->svc, &hdr, attrs, attrs_len, fx->reply, sizeof(fx->reply),
				    &ahead[i]);
		assert_true(rc > 0);
		assert_int_equal(ipr_ctl_reply_decode(fx->reply, (size_t)rc, &fx->decoded), 0);
		reqs[i].status = fx->decoded.hdr.status;
		memcpy(reqs[i].encoded, fx->decoded.fields.encoded, 16);
	}
	assert_int_equal(store_commit(fx->store), 0);
}

/*
 * A batch of LAN clients' new names sent ahead together answers as one request at a time
 * would: each client's limit and all clients' share counted as the batch goes (the requests
 * over them go the usual way, which refuses them), a name asked twice gets one value, and
 * the holds' counts stay true. On PostgreSQL the statement answers all but the refused ones.
 */
static void test_batch_ahead_quota(void **state)
{
	struct fixture *fx = *state;
	const char *x = "192.168.1.10", *y = "192.168.1.11";
	struct batch_request reqs[] = {
		{ .ref = 1, .client = x },    { .ref = 2, .client = x }, { .ref = 3, .client = x },
		{ .ref = 4, .client = x },    { .ref = 5, .client = x }, /* over client-limit 4 */
		{ .ref = 6, .client = y },    { .ref = 7, .client = y }, /* client-total 6 reached
									  */
		{ .ref = 8, .client = y },				 /* over it */
		{ .ref = 1, .client = x },    /* asked again: the same value */
		{ .ref = 9, .client = NULL }, /* no client: no quota */
	};
	const uint8_t want[] = { IPR_CTL_OK,	  IPR_CTL_OK, IPR_CTL_OK, IPR_CTL_OK,
				 IPR_CTL_E_QUOTA, IPR_CTL_OK, IPR_CTL_OK, IPR_CTL_E_QUOTA,
				 IPR_CTL_OK,	  IPR_CTL_OK };
	size_t n = sizeof(reqs) / sizeof(reqs[0]);

	assert_int_equal(test_refill_flushed(fx->store, &fx->svc.range[0], fake_now), 0);
	run_batch(fx, reqs, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(reqs[i].status, want[i]);
		for (size_t j = 0; j < i && reqs[i].ref != 1; j++)
			if (reqs[j].status == IPR_CTL_OK)
				assert_memory_not_equal(reqs[i].encoded, reqs[j].encoded, 4);
	}
	assert_memory_equal(reqs[8].encoded, reqs[0].encoded, 4);
	assert_int_equal(counter(fx, "gwctld.resolution.probation"), 6);
	assert_int_equal(counter(fx, "gwctld.resolution.over_quota"), 1);
	assert_int_equal(counter(fx, "gwctld.resolution.over_share"), 1);
	assert_int_equal(counter(fx, "gwctld.resolution.held"), 6);
	assert_int_equal(counter(fx, "gwctld.allocated.encoded"), 7);
	assert_int_equal(counter(fx, "gwctld.allocations.ahead"),
			 service_ahead_wanted(&fx->svc) ? 8 : 0);
	assert_int_equal(counter(fx, "gwctld.allocations.ahead_usual"),
			 service_ahead_wanted(&fx->svc) ? 2 : 0);
	assert_int_equal(hold_counts_off(fx), 0);
	/* SQLite's reserve may hold a value twice (no UNIQUE there: its take drops the twin) */
	if (service_ahead_wanted(&fx->svc))
		assert_int_equal(test_reserved_and_mapped(fx->store), 0);
}

/*
 * More new names in a batch than values reserved: the statement binds what the reserve has,
 * the rest go the usual way (a value picked at random, synced at commit); every name gets a
 * value of its own and the reserve keeps none that is mapped.
 */
static void test_batch_ahead_reserve_short(void **state)
{
	struct fixture *fx = *state;
	struct batch_request reqs[BATCH_MAX];

	assert_int_equal(test_refill_flushed(fx->store, &fx->svc.range[0], fake_now), 0);
	for (size_t i = 0; i < BATCH_MAX; i++)
		reqs[i] = (struct batch_request){ .ref = 100 + i };
	run_batch(fx, reqs, BATCH_MAX);
	for (size_t i = 0; i < BATCH_MAX; i++) {
		assert_int_equal(reqs[i].status, IPR_CTL_OK);
		for (size_t j = 0; j < i; j++)
			assert_memory_not_equal(reqs[i].encoded, reqs[j].encoded, 4);
	}
	assert_int_equal(counter(fx, "gwctld.allocated.encoded"), BATCH_MAX);
	assert_int_equal(test_reserved_and_mapped(fx->store), 0);
	if (service_ahead_wanted(&fx->svc)) {
		assert_int_equal(counter(fx, "gwctld.allocations.ahead"), 15);
		assert_int_equal(counter(fx, "gwctld.allocations.ahead_usual"), BATCH_MAX - 15);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probation_until_used, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_limit_counts_resting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clients_share_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_used_mapping_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_rests_probation_briefly, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_holds_survive_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_resting_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_moves_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_ahead_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_ahead_reserve_short, setup, teardown),
	};
	return cmocka_run_group_tests_name("quota", tests, NULL, NULL);
}
