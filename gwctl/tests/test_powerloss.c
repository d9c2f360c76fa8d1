/*
 * Power loss at random moments of allocation bursts, lease renewals, sweeps, refills and
 * published reloads, through a VFS that loses every write not yet synced; after each, the
 * store is opened as gwctld starts and checked: no value bound twice, integrity ok.
 *
 * Usage: test_powerloss [POINTS] [--broken] (moments drawn from libsodium, different every run;
 * a failure prints what it saw). --broken starts the store as a gwctld
 * would that did not rest its reserve after an unclean stop: the test must then fail.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "powerloss_vfs.h"
#include "store.h"

#define LEASE	   100
#define QUARANTINE 50
#define RANGE_BITS 8 /* a /24: values come round again quickly, so reuse is tested */
#define SLOTS	   256

/* What the clients were told: value (host part of the /24) -> reference, protected until. */
struct told {
	uint64_t ref;	 /* 0: nothing told */
	int64_t expires; /* the lease the last answer gave */
};

static struct told told[SLOTS];
static struct ipr_prefix range;
static struct ipr_context context;
static char path[128];
static int64_t now = 1000000;
static uint64_t next_ref = 1, next_published = 1;
static bool broken;
static uint64_t failures, crashes, clean_stops, allocations, sync_commits;

#define FAIL(...)                                      \
	do {                                           \
		fprintf(stderr, "FAIL: " __VA_ARGS__); \
		fputc('\n', stderr);                   \
		failures++;                            \
	} while (0)

static unsigned slot_of(const uint8_t *address)
{
	return address[3];
}

static uint32_t rnd(uint32_t n)
{
	return randombytes_uniform(n);
}

/* A value told to a client is off limits until its lease plus quarantine is over. */
static bool protected(unsigned slot)
{
	return told[slot].ref && told[slot].expires + QUARANTINE > now;
}

static int open_store(struct store **store)
{
	struct store_start_report report;
	char msg[512];
	int rc = store_open(path, store, msg, sizeof(msg));

	if (rc < 0) {
		FAIL("store_open: %s", msg);
		return rc;
	}
	if (broken) {
		/* a start that records nothing and rests nothing */
		sqlite3 *db;
		sqlite3_open(path, &db);
		sqlite3_exec(db, "UPDATE reserve SET seq = 0", NULL, NULL, NULL);
		sqlite3_close(db);
		return 0;
	}
	return store_start(*store, now, LEASE, QUARANTINE, &report);
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* After a start: every value told is bound as told or rests long enough; the file is whole. */
static void check_after_start(struct store *store)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char sql[160];

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		FAIL("cannot open %s to check it", path);
		return;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
		FAIL("integrity_check: %s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	/* the triggers' counts hold with the rows after every crash */
	if (query_int(db, "SELECT value FROM counts WHERE name = 'mappings.3'") !=
	    query_int(db, "SELECT count(*) FROM remote_mapping WHERE kind = 3"))
		FAIL("counts of dynamic remote mappings differ from the rows");
	if (query_int(db, "SELECT value FROM counts WHERE name = 'quarantine.encoded.4'") !=
	    query_int(db, "SELECT count(*) FROM quarantine WHERE value LIKE 'encoded:%'"))
		FAIL("counts of quarantined values differ from the rows");
	for (unsigned s = 0; s < SLOTS; s++) {
		struct ipr_mapping m;
		uint8_t address[16] = { 10, 240, 0, (uint8_t)s };
		int64_t until;

		if (!protected(s))
			continue;
		int rc = store_find_encoded(store, AF_INET, address, &m);
		if (rc == 0) {
			if (m.ref.lo != told[s].ref)
				FAIL("10.240.0.%u told as ref %llu is bound to ref %llu", s,
				     (unsigned long long)told[s].ref, (unsigned long long)m.ref.lo);
			else if (m.expires < told[s].expires)
				FAIL("10.240.0.%u: lease %lld shorter than told (%lld)", s,
				     (long long)m.expires, (long long)told[s].expires);
			continue;
		}
		snprintf(sql, sizeof(sql),
			 "SELECT until FROM quarantine WHERE value = 'encoded:10.240.0.%u'", s);
		until = query_int(db, sql);
		if (until < told[s].expires + QUARANTINE)
			FAIL("10.240.0.%u told as ref %llu (until %lld) is neither bound nor "
			     "resting "
			     "long enough (%lld)",
			     s, (unsigned long long)told[s].ref,
			     (long long)(told[s].expires + QUARANTINE), (long long)until);
	}
	sqlite3_close(db);
}

/* GET_EA for new remote addresses, a batch in one commit, as the daemon does. */
static void burst(struct store *store)
{
	struct ipr_mapping batch[16];
	unsigned n = 1 + rnd(16), got = 0;

	if (store_begin(store) < 0)
		return;
	for (unsigned i = 0; i < n; i++) {
		struct ipr_mapping *m = &batch[got];
		memset(m, 0, sizeof(*m));
		m->kind = IPR_MAP_DYNAMIC_REMOTE;
		m->family = AF_INET;
		m->context = context;
		m->ref = ipr_ref_from_u64(next_ref++);
		m->expires = now + LEASE;
		strcpy(m->source, "resolver");
		if (alloc_encoded(store, &range, now, m->address) < 0)
			break;
		if (store_insert(store, m) < 0)
			break;
		got++;
	}
	/* the power gone before the reply, the reply never left: nothing was told */
	if (store_commit(store) < 0 || powerloss_dead())
		return;
	/* acknowledged: every one of them was told to a client now */
	for (unsigned i = 0; i < got; i++) {
		unsigned s = slot_of(batch[i].address);
		if (protected(s) && told[s].ref != batch[i].ref.lo)
			FAIL("10.240.0.%u handed to ref %llu while told as ref %llu until %lld", s,
			     (unsigned long long)batch[i].ref.lo, (unsigned long long)told[s].ref,
			     (long long)(told[s].expires + QUARANTINE));
		told[s].ref = batch[i].ref.lo;
		told[s].expires = batch[i].expires;
		allocations++;
	}
}

/* Requests for mappings that exist renew their leases (GET_EA again, REPORT_USE). */
static void renew(struct store *store)
{
	unsigned s = rnd(SLOTS);
	uint8_t address[16] = { 10, 240, 0, (uint8_t)s };
	struct ipr_mapping m;

	if (store_begin(store) < 0)
		return;
	if (store_find_encoded(store, AF_INET, address, &m) < 0 || !m.expires ||
	    store_set_expiry(store, &m, now + LEASE) < 0) {
		store_rollback(store);
		return;
	}
	if (store_commit(store) == 0 && !powerloss_dead() && told[s].ref == m.ref.lo)
		told[s].expires = now + LEASE;
}

/* The sweep: time passes, expired mappings rest, resting ones are forgotten. */
static void sweep(struct store *store)
{
	struct ipr_mapping expired[64];
	int n;

	now += 1 + rnd(20);
	if (store_begin(store) < 0)
		return;
	if (store_purge_quarantine(store, now) < 0)
		goto fail;
	n = store_expired(store, now, expired, 64);
	for (int i = 0; i < n; i++)
		if (store_delete(store, &expired[i], now + QUARANTINE) < 0)
			goto fail;
	if (store_commit(store) < 0)
		return;
	return;
fail:
	store_rollback(store);
}

static void refill(struct store *store)
{
	if (store_begin(store) < 0)
		return;
	if (alloc_refill_encoded(store, &range, now, 512) < 0) {
		store_rollback(store);
		return;
	}
	if (store_commit(store) == 0)
		store_flush(store);
}

/* A reload of published sources in slices: hosts come and go, each slice a savepoint. */
static void reload(struct store *store)
{
	if (store_begin(store) < 0)
		return;
	for (int slice = 0; slice < 4; slice++) {
		if (store_savepoint(store) < 0)
			break;
		for (int i = 0; i < 8; i++) {
			struct ipr_mapping m = { .kind = IPR_MAP_PUBLISHED, .family = AF_INET };
			uint64_t n = next_published++;
			m.address[0] = 192;
			m.address[1] = 168;
			m.address[2] = (uint8_t)(n >> 8);
			m.address[3] = (uint8_t)n;
			m.context = context;
			m.ref = ipr_ref_from_u64(n % 5000 + 1);
			snprintf(m.source, sizeof(m.source), "/etc/ipref/hosts:%llu",
				 (unsigned long long)n);
			struct ipr_mapping old;
			if (store_find_ref(store, &m.ref, &old) == 0)
				if (store_delete(store, &old, 0) < 0)
					continue;
			if (store_insert(store, &m) < 0)
				continue;
		}
		if (store_release(store) < 0)
			break;
	}
	if (store_commit(store) < 0)
		return;
}

static void step(struct store *store)
{
	unsigned what = rnd(100);

	if (what < 45)
		burst(store);
	else if (what < 60)
		renew(store);
	else if (what < 75)
		sweep(store);
	else if (what < 85)
		refill(store);
	else if (what < 92)
		reload(store);
	else
		store_flush(store); /* the flush-interval timer */
}

int main(int argc, char **argv)
{
	int points = 1000;
	char dir[] = "/tmp/ipref-powerloss-XXXXXX";
	struct store *store = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--broken") == 0)
			broken = true;
		else
			points = atoi(argv[i]);
	}
	if (sodium_init() < 0 || powerloss_register() < 0 || !mkdtemp(dir))
		return 99;
	snprintf(path, sizeof(path), "%s/gw.db", dir);
	range = (struct ipr_prefix){ .family = AF_INET, .addr = { 10, 240, 0, 0 }, .len = 24 };
	if (ipr_context_parse("192.0.2.7", 9, &context, NULL) < 0)
		return 99;

	if (open_store(&store) < 0)
		return 1;
	for (int point = 0; point < points && failures < 20; point++) {
		/* power goes within the next few hundred writes, wherever that falls; one point in
		 * ten ends with a clean stop instead */
		bool clean = point % 10 == 9;
		powerloss_arm(clean ? UINT64_MAX : powerloss_writes() + 1 + rnd(400));
		for (int i = 0; i < (clean ? 20 : 200) && !powerloss_dead(); i++)
			step(store);
		if (!powerloss_dead()) {
			/* no power loss this time: a clean stop, then a start */
			if (store_mark_clean(store) < 0)
				FAIL("store_mark_clean");
			clean_stops++;
		} else {
			crashes++;
		}
		store_close(store);
		powerloss_reboot();
		now += rnd(3); /* the machine comes back */
		if (open_store(&store) < 0)
			break;
		check_after_start(store);
	}
	store_close(store);
	printf("%d points: %llu power losses, %llu clean stops, %llu allocations told, "
	       "%llu failures\n",
	       points, (unsigned long long)crashes, (unsigned long long)clean_stops,
	       (unsigned long long)allocations, (unsigned long long)failures);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	(void)sync_commits;
	return failures ? 1 : 0;
}
