/* Load generator for gwctld: durable allocations, lookups with latency percentiles. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sqlite3.h>

#include "ctl_client.h"

#define WINDOW_MAX 1024

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * LAN clients the requests are asked for (IPR_CTL_A_CLIENT, as the resolver module sends), in
 * turn: 0 sends none. With them every allocation goes through the per-client quota checks.
 */
static unsigned lan_clients;

static size_t build_get_ea(uint8_t *buf, size_t cap, uint32_t id, uint32_t context, uint64_t ref)
{
	struct ipr_ctl_builder b;
	struct ipr_ref r = ipr_ref_from_u64(ref);
	uint8_t ctx[4];
	size_t len = 0;

	ctx[0] = (uint8_t)(context >> 24);
	ctx[1] = (uint8_t)(context >> 16);
	ctx[2] = (uint8_t)(context >> 8);
	ctx[3] = (uint8_t)context;
	ipr_ctl_build(&b, buf, cap, IPR_CTL_GET_EA, 0, id);
	ipr_ctl_put_ip(&b, IPR_CTL_A_CONTEXT, AF_INET, ctx);
	ipr_ctl_put_ref(&b, IPR_CTL_A_REF, &r);
	ipr_ctl_put_u8(&b, IPR_CTL_A_FAMILY, 4);
	if (lan_clients) {
		uint32_t n = (uint32_t)(ref % lan_clients);
		uint8_t client[4] = { 10, 99, (uint8_t)(n >> 8), (uint8_t)n };

		ipr_ctl_put_ip(&b, IPR_CTL_A_CLIENT, AF_INET, client);
		ipr_ctl_put_text(&b, IPR_CTL_A_SOURCE, "resolver");
	}
	if (ipr_ctl_finish(&b, &len) < 0)
		abort();
	return len;
}

/*
 * Sends count GET_EA requests for refs first..first+count-1 with up to window in flight on each
 * of `conns` connections, and returns the elapsed time; failed replies are counted.
 */
static double run_pipelined(const char *path, unsigned conns, unsigned window, uint64_t first,
			    uint64_t count, uint32_t context, uint64_t *failures)
{
	struct ipr_ctl_client *clients[64];
	unsigned in_flight[64] = { 0 };
	uint64_t sent = 0, done = 0;
	uint8_t buf[IPR_CTL_MSG_MAX];
	double start;

	for (unsigned i = 0; i < conns; i++) {
		if (ipr_ctl_client_connect(path, &clients[i]) < 0) {
			fprintf(stderr, "cannot connect to %s\n", path);
			exit(1);
		}
	}
	start = now_s();
	while (done < count) {
		for (unsigned i = 0; i < conns; i++) {
			while (in_flight[i] < window && sent < count) {
				size_t len = build_get_ea(buf, sizeof(buf),
							  ipr_ctl_client_next_id(clients[i]),
							  context, first + sent);
				int rc = ipr_ctl_client_send(clients[i], buf, len);
				if (rc == -EAGAIN)
					break;
				if (rc < 0) {
					fprintf(stderr, "send: %s\n", strerror(-rc));
					exit(1);
				}
				in_flight[i]++;
				sent++;
			}
			while (in_flight[i] > 0) {
				struct ipr_ctl_reply reply;
				int n = ipr_ctl_client_recv(
					clients[i], buf, sizeof(buf),
					in_flight[i] == window || sent == count ? 5000 : 0);
				if (n == -ETIMEDOUT)
					break;
				if (n < 0) {
					fprintf(stderr, "recv: %s\n", strerror(-n));
					exit(1);
				}
				if (ipr_ctl_reply_decode(buf, (size_t)n, &reply) < 0 ||
				    reply.hdr.status != IPR_CTL_OK)
					(*failures)++;
				in_flight[i]--;
				done++;
			}
		}
	}
	double elapsed = now_s() - start;
	for (unsigned i = 0; i < conns; i++)
		ipr_ctl_client_free(clients[i]);
	return elapsed;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/*
 * One request at a time: the latency of each GET_EA for refs 1..existing in turn, the first of
 * each ref making its mapping and the next rounds finding it; gap_us apart when given (a paced
 * resolver's requests find gwctld asleep, back-to-back ones awake).
 */
static void run_latency(const char *path, uint64_t count, uint64_t existing, uint32_t context,
			unsigned gap_us)
{
	struct ipr_ctl_client *client;
	uint8_t req[256], buf[IPR_CTL_MSG_MAX];
	double *lat = calloc(count, sizeof(double)), start = now_s();
	const struct timespec gap = { .tv_sec = gap_us / 1000000,
				      .tv_nsec = (long)(gap_us % 1000000) * 1000 };

	if (!lat || ipr_ctl_client_connect(path, &client) < 0)
		exit(1);
	for (uint64_t i = 0; i < count; i++) {
		struct ipr_ctl_reply reply;
		size_t len = build_get_ea(req, sizeof(req), ipr_ctl_client_next_id(client), context,
					  1 + i % existing);
		double t = now_s();
		if (ipr_ctl_client_call(client, req, len, buf, sizeof(buf), 5000, &reply) < 0 ||
		    reply.hdr.status != IPR_CTL_OK) {
			fprintf(stderr, "lookup failed\n");
			exit(1);
		}
		lat[i] = now_s() - t;
		if (gap_us)
			nanosleep(&gap, NULL);
	}
	double elapsed = now_s() - start;
	qsort(lat, count, sizeof(double), compare_double);
	printf("lookup-serial rate=%.0f/s p50=%.1fus p99=%.1fus max=%.1fus\n",
	       (double)count / elapsed, lat[count / 2] * 1e6, lat[count * 99 / 100] * 1e6,
	       lat[count - 1] * 1e6);
	free(lat);
	ipr_ctl_client_free(client);
}

static volatile sig_atomic_t probe_stop;

static void on_term(int sig)
{
	(void)sig;
	probe_stop = 1;
}

/*
 * A probe: one GET_EA of an existing mapping at a time for `seconds` or until SIGTERM, the way
 * a resolver worker asks, recording how long each waited; run beside a reload or a STATUS flood.
 */
static void run_probe(const char *path, double seconds, uint32_t context)
{
	struct ipr_ctl_client *client;
	uint8_t req[256], buf[IPR_CTL_MSG_MAX];
	size_t cap = 1u << 22, n = 0;
	double *lat = calloc(cap, sizeof(double)), end;

	if (!lat || ipr_ctl_client_connect(path, &client) < 0)
		exit(1);
	signal(SIGTERM, on_term);
	end = now_s() + seconds;
	while (!probe_stop && now_s() < end && n < cap) {
		struct ipr_ctl_reply reply;
		size_t len =
			build_get_ea(req, sizeof(req), ipr_ctl_client_next_id(client), context, 1);
		double t = now_s();
		int rc = ipr_ctl_client_call(client, req, len, buf, sizeof(buf), 300000, &reply);

		lat[n++] = now_s() - t;
		if (rc < 0 && probe_stop)
			break; /* stopped while waiting: what it waited so far counts */
		if (rc < 0 || reply.hdr.status != IPR_CTL_OK) {
			fprintf(stderr, "probe: GET_EA failed: %s\n",
				rc < 0 ? strerror(-rc) : ipr_ctl_status_text(reply.hdr.status));
			exit(1);
		}
	}
	qsort(lat, n, sizeof(double), compare_double);
	size_t over = 0;
	while (over < n && lat[n - 1 - over] > 0.010)
		over++;
	printf("probe count=%zu p50=%.2fms p99=%.2fms max=%.2fms over10ms=%zu\n", n,
	       lat[n / 2] * 1e3, lat[n * 99 / 100] * 1e3, lat[n - 1] * 1e3, over);
	free(lat);
	ipr_ctl_client_free(client);
}

/* count STATUS requests with up to window in flight on one connection. */
static void run_status_flood(const char *path, uint64_t count, unsigned window)
{
	struct ipr_ctl_client *client;
	uint8_t req[64], buf[IPR_CTL_MSG_MAX];
	uint64_t sent = 0, done = 0;
	double start;

	if (ipr_ctl_client_connect(path, &client) < 0)
		exit(1);
	start = now_s();
	while (done < count) {
		while (sent < count && sent - done < window) {
			struct ipr_ctl_builder b;
			size_t len;

			ipr_ctl_build(&b, req, sizeof(req), IPR_CTL_STATUS, 0,
				      ipr_ctl_client_next_id(client));
			if (ipr_ctl_finish(&b, &len) < 0 ||
			    ipr_ctl_client_send(client, req, len) < 0)
				exit(1);
			sent++;
		}
		if (ipr_ctl_client_recv(client, buf, sizeof(buf), 30000) < 0)
			exit(1);
		done++;
	}
	printf("status rate=%.0f/s count=%llu window=%u\n", (double)count / (now_s() - start),
	       (unsigned long long)count, window);
	ipr_ctl_client_free(client);
}

/*
 * The baseline: the same rows inserted straight into SQLite with the daemon's durability
 * settings (WAL, synchronous=FULL) and the same number of rows per commit, no socket at all.
 */
static void run_sqlite_baseline(const char *db_path, uint64_t count, unsigned batch)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char encoded[32], ref[32];
	double start;

	if (sqlite3_open(db_path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE m (id INTEGER PRIMARY KEY, encoded TEXT NOT NULL UNIQUE,"
			 " context TEXT NOT NULL, ref TEXT NOT NULL, expires INTEGER,"
			 " UNIQUE (context, ref)) STRICT",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO m (encoded, context, ref, expires) VALUES (?, ?, ?, 0)",
			       -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "baseline: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	start = now_s();
	for (uint64_t i = 0; i < count; i++) {
		if (i % batch == 0)
			sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		snprintf(encoded, sizeof(encoded), "10.%u.%u.%u", (unsigned)(240 + (i >> 16) % 16),
			 (unsigned)(i >> 8) & 255, (unsigned)i & 255);
		snprintf(ref, sizeof(ref), "%llu", (unsigned long long)i + 1);
		sqlite3_bind_text(st, 1, encoded, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, "192.0.2.1", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, ref, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			exit(1);
		sqlite3_reset(st);
		if (i % batch == batch - 1 || i == count - 1)
			sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	printf("sqlite-baseline rate=%.0f/s count=%llu batch=%u\n",
	       (double)count / (now_s() - start), (unsigned long long)count, batch);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

int main(int argc, char **argv)
{
	uint64_t failures = 0;

	if (argc < 4) {
		fprintf(stderr,
			"usage: gwctl_bench SOCKET alloc COUNT [CONNS WINDOW [CLIENTS]]\n"
			"       gwctl_bench SOCKET lookup COUNT EXISTING [CONNS WINDOW]\n"
			"       gwctl_bench SOCKET latency COUNT EXISTING [GAP_US [CLIENTS]]\n"
			"       gwctl_bench SOCKET probe SECONDS\n"
			"       gwctl_bench SOCKET status COUNT WINDOW\n"
			"       gwctl_bench DB-PATH sqlite-baseline COUNT BATCH\n");
		return 2;
	}
	const char *path = argv[1], *mode = argv[2];
	uint64_t count = strtoull(argv[3], NULL, 10);
	uint32_t context = 0xc0000201; /* 192.0.2.1 */

	if (!strcmp(mode, "alloc")) {
		unsigned conns = argc > 4 ? (unsigned)atoi(argv[4]) : 4;
		unsigned window = argc > 5 ? (unsigned)atoi(argv[5]) : 64;
		lan_clients = argc > 6 ? (unsigned)atoi(argv[6]) : 0;
		/* refs far from those of other runs, so every request allocates */
		uint64_t first = (uint64_t)time(NULL) * 1000000;
		double t = run_pipelined(path, conns, window, first, count, context + 1, &failures);
		printf("alloc rate=%.0f/s count=%llu failures=%llu conns=%u window=%u\n",
		       (double)count / t, (unsigned long long)count, (unsigned long long)failures,
		       conns, window);
	} else if (!strcmp(mode, "lookup") && argc > 4) {
		uint64_t existing = strtoull(argv[4], NULL, 10);
		unsigned conns = argc > 5 ? (unsigned)atoi(argv[5]) : 4;
		unsigned window = argc > 6 ? (unsigned)atoi(argv[6]) : 64;
		/* allocate the set once, then ask for it again and again */
		run_pipelined(path, conns, window, 1, existing, context, &failures);
		double t = 0;
		for (uint64_t done = 0; done < count; done += existing)
			t += run_pipelined(path, conns, window, 1, existing, context, &failures);
		uint64_t total = (count + existing - 1) / existing * existing;
		printf("lookup rate=%.0f/s count=%llu failures=%llu conns=%u window=%u\n",
		       (double)total / t, (unsigned long long)total, (unsigned long long)failures,
		       conns, window);
	} else if (!strcmp(mode, "sqlite-baseline") && argc > 4) {
		run_sqlite_baseline(path, count, (unsigned)atoi(argv[4]));
	} else if (!strcmp(mode, "probe")) {
		run_probe(path, strtod(argv[3], NULL), context);
	} else if (!strcmp(mode, "status") && argc > 4) {
		run_status_flood(path, count, (unsigned)atoi(argv[4]));
	} else if (!strcmp(mode, "latency") && argc > 4) {
		lan_clients = argc > 6 ? (unsigned)atoi(argv[6]) : 0;
		run_latency(path, count, strtoull(argv[4], NULL, 10), context,
			    argc > 5 ? (unsigned)atoi(argv[5]) : 0);
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	return failures ? 1 : 0;
}
