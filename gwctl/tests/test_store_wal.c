/*
 * The SQLite store's write-ahead log under a stream of commits: bounded, and kept so without the
 * daemon's thread truncating files (docs/store.md, "The write-ahead log"). Through a VFS that
 * watches the thread that commits, as gwctld's event loop does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "store.h"
#include "store_wal.h"
#include "watch_vfs.h"

#define BURST	     (4ull * STORE_WAL_LIMIT) /* written as fast as commits go */
#define PACED_FOR_MS 2500 /* then a commit a millisecond, past the daemon's checks of the WAL */
#define MAX_COMMITS  400000

struct fixture {
	char dir[64];
	char path[128];
	struct store *store;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char msg[512];

	assert_int_equal(watch_vfs_register(), 0);
	strcpy(fx->dir, "/tmp/ipref-wal-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/gw.db", fx->dir);
	assert_int_equal(store_open(fx->path, &fx->store, msg, sizeof(msg)), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[160];

	store_close(fx->store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* The n-th remote host's mapping: 10.0.0.0/8 and references counted from 4096. */
static struct ipr_mapping nth_remote(uint32_t n)
{
	struct ipr_mapping m = { .kind = IPR_MAP_DYNAMIC_REMOTE, .family = AF_INET };
	uint32_t address = htonl(0x0a000000u + n);

	m.expires = 1000000;
	memcpy(m.address, &address, 4);
	assert_int_equal(ipr_context_parse("192.0.2.1", 9, &m.context, NULL), 0);
	m.ref = ipr_ref_from_u64(4096 + n);
	strcpy(m.source, "test");
	return m;
}

static int64_t elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/*
 * A stream of commits, one new mapping each: first as fast as they go, then paced. The WAL's
 * file never grows past twice its bound, however far the flusher's checkpoints lag, and the
 * thread that commits never truncates a file. Before: the daemon looked at the WAL once a
 * second, so a burst made it 50 MiB, and past 8 MiB it truncated it, 23 ms on ext4 in an
 * answer's way.
 */
static void test_commits_keep_the_wal_bounded(void **state)
{
	struct fixture *fx = *state;
	const struct timespec pace = { .tv_nsec = 1000000 };
	struct watch_counts seen;
	struct timespec start;
	uint32_t n = 0;

	watch_vfs_this_thread();
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		struct ipr_mapping m = nth_remote(n++);
		assert_int_equal(store_begin(fx->store), 0);
		assert_int_equal(store_bind_remote(fx->store, &m), 0);
		assert_int_equal(store_commit(fx->store), 0);
		store_tend(fx->store); /* as the daemon's loop does after a batch */
		watch_vfs_counts(&seen);
		if (seen.wal_written >= BURST)
			nanosleep(&pace, NULL);
	} while ((seen.wal_written < BURST || elapsed_ms(&start) < PACED_FOR_MS) &&
		 n < MAX_COMMITS);
	printf("# %u commits, %llu MiB written to the WAL, its file at most %llu KiB; the "
	       "committing thread synced %llu times, truncated %llu times\n",
	       n, (unsigned long long)(seen.wal_written >> 20),
	       (unsigned long long)(seen.wal_peak >> 10), (unsigned long long)seen.syncs,
	       (unsigned long long)seen.truncations);
	assert_true(seen.wal_written >= BURST);
	assert_true(seen.wal_peak <= 2 * (uint64_t)STORE_WAL_LIMIT);
	assert_int_equal(seen.truncations, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commits_keep_the_wal_bounded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
