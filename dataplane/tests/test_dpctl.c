/*
 * The gwctld link against a scripted peer: a listening control socket of the test's own that
 * speaks the protocol with core's codec. Snapshot, pushed changes, questions and their answers,
 * use and counter reports, reconnecting with a fresh snapshot, and the layout (RANGES) followed
 * when gwctld says a reload changed it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_client.h"
#include "ctl_msg.h"
#include "dpctl.h"
#include "layout.h"
#include "mapping.h"

#define REPORT_MS 2000 /* dpctl.c's report period */

struct peer {
	char dir[32], path[64];
	int listen_fd, fd;
	int epoll_fd;
	struct dp *dp;
	uint32_t sub_id;
};

static struct ipr_mapping remote_map(const char *encoded, uint64_t ref)
{
	struct ipr_mapping m = { .kind = IPR_MAP_DYNAMIC_REMOTE, .family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, encoded, m.address), 1);
	m.context.kind = IPR_CONTEXT_IPV4;
	assert_int_equal(inet_pton(AF_INET, "198.51.100.2", m.context.ipv4), 1);
	m.ref.lo = ref;
	return m;
}

static struct ipr_mapping local_map(const char *addr, uint64_t ref)
{
	struct ipr_mapping m = { .kind = IPR_MAP_DYNAMIC_LOCAL, .family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, addr, m.address), 1);
	m.context.kind = IPR_CONTEXT_IPV4;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.1", m.context.ipv4), 1);
	m.ref.lo = ref;
	return m;
}

/* One message from the dataplane, decoded; fails the test unless it is of kind. Its length. */
static size_t peer_expect(struct peer *p, uint8_t kind, struct ipr_ctl_header *hdr,
			  struct ipr_ctl_fields *f, uint8_t *buf)
{
	const uint8_t *attrs;
	size_t alen;
	struct ipr_err err;
	ssize_t n = recv(p->fd, buf, IPR_CTL_MSG_MAX, 0);

	assert_true(n > 0);
	assert_int_equal(ipr_ctl_decode(buf, (size_t)n, hdr, &attrs, &alen), 0);
	assert_int_equal(hdr->kind, kind);
	memset(f, 0, sizeof(*f));
	assert_int_equal(ipr_ctl_fields_parse(attrs, alen, f, &err), 0);
	return (size_t)n;
}

/* The value of the counter called name in a REPORT_COUNTERS message; fails when absent. */
static uint64_t counter_in(const uint8_t *msg, size_t len, const char *name)
{
	struct ipr_ctl_header hdr;
	struct ipr_ctl_iter it;
	struct ipr_ctl_attr at;
	const uint8_t *attrs;
	size_t alen;

	assert_int_equal(ipr_ctl_decode(msg, len, &hdr, &attrs, &alen), 0);
	ipr_ctl_iter_init(&it, attrs, alen);
	while (ipr_ctl_iter_next(&it, &at) == 1) {
		struct ipr_ctl_fields f = { 0 };
		struct ipr_err err;

		if (at.type != IPR_CTL_A_COUNTER)
			continue;
		assert_int_equal(ipr_ctl_fields_parse(at.value, at.len, &f, &err), 0);
		if (strcmp(f.text, name) == 0)
			return f.value;
	}
	fail_msg("no counter %s", name);
	return 0;
}

static void peer_send(struct peer *p, uint8_t kind, uint8_t status, uint32_t id,
		      const struct ipr_mapping *m)
{
	uint8_t buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_builder b;
	size_t len;

	ipr_ctl_build(&b, buf, sizeof(buf), kind, status, id);
	if (m)
		ipr_mapping_put(&b, m);
	assert_int_equal(ipr_ctl_finish(&b, &len), 0);
	assert_int_equal(send(p->fd, buf, len, 0), (ssize_t)len);
}

/* A RANGES reply: one IPv4 range, a gateway address. */
static void peer_send_ranges(struct peer *p, uint32_t id, const char *range, unsigned len,
			     const char *gateway)
{
	uint8_t buf[IPR_CTL_MSG_MAX], addr[16] = { 0 };
	struct ipr_ctl_builder b;
	size_t n;

	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_RANGES | IPR_CTL_REPLY, IPR_CTL_OK, id);
	assert_int_equal(inet_pton(AF_INET, range, addr), 1);
	ipr_ctl_put_range(&b, IPR_CTL_A_RANGE, AF_INET, addr, len);
	assert_int_equal(inet_pton(AF_INET, gateway, addr), 1);
	ipr_ctl_put_ip(&b, IPR_CTL_A_GATEWAY, AF_INET, addr);
	assert_int_equal(ipr_ctl_finish(&b, &n), 0);
	assert_int_equal(send(p->fd, buf, n, 0), (ssize_t)n);
}

/*
 * The dataplane connects when due; the peer takes the connection, its RANGES (answered with
 * 10.64.0.0/16 and 192.0.2.1) and SUBSCRIBE, and the first counter report of the same tick.
 */
static void peer_accept(struct peer *p, int64_t now)
{
	struct ipr_ctl_header hdr;
	struct ipr_ctl_fields f;
	uint8_t buf[IPR_CTL_MSG_MAX];
	uint32_t ranges_id;

	dpctl_tick(p->dp, now);
	p->fd = accept(p->listen_fd, NULL, NULL);
	assert_true(p->fd >= 0);
	peer_expect(p, IPR_CTL_RANGES, &hdr, &f, buf);
	ranges_id = hdr.id;
	peer_expect(p, IPR_CTL_SUBSCRIBE, &hdr, &f, buf);
	p->sub_id = hdr.id;
	peer_expect(p, IPR_CTL_REPORT_COUNTERS, &hdr, &f, buf);
	assert_int_equal(recv(p->fd, buf, 1, MSG_DONTWAIT), -1); /* nothing else */
	peer_send_ranges(p, ranges_id, "10.64.0.0", 16, "192.0.2.1");
}

/* What the I/O side's layout hook was called with. */
static unsigned applied;
static struct dp_layout applied_old;
static int apply_rc;

static int record_layout(struct dp *dp, const struct dp_layout *old)
{
	(void)dp;
	applied++;
	applied_old = *old;
	return apply_rc;
}

static int setup(void **state)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	assert_non_null(p);
	snprintf(p->dir, sizeof(p->dir), "/tmp/test_dpctl.XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->path, sizeof(p->path), "%s/gwctl.sock", p->dir);
	strcpy(sun.sun_path, p->path);
	p->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(p->listen_fd >= 0);
	assert_int_equal(bind(p->listen_fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(p->listen_fd, 4), 0);
	p->fd = -1;
	p->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	assert_true(p->epoll_fd >= 0);
	p->dp = calloc(1, sizeof(*p->dp));
	assert_non_null(p->dp);
	dpconf_defaults(&p->dp->cfg);
	snprintf(p->dp->cfg.gwctl_socket, sizeof(p->dp->cfg.gwctl_socket), "%s", p->path);
	p->dp->layout_apply = record_layout;
	applied = 0;
	apply_rc = 0;
	assert_int_equal(maptab_new(64, &p->dp->tab), 0);
	assert_int_equal(dpctl_new(p->dp, p->epoll_fd, 7, &p->dp->ctl), 0);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct peer *p = *state;

	dpctl_free(p->dp->ctl);
	maptab_free(p->dp->tab);
	free(p->dp);
	if (p->fd >= 0)
		close(p->fd);
	close(p->listen_fd);
	close(p->epoll_fd);
	unlink(p->path);
	rmdir(p->dir);
	free(p);
	return 0;
}

/* The snapshot, then changes pushed as they happen. */
static void test_snapshot_and_changes(void **state)
{
	struct peer *p = *state;
	struct ipr_mapping a = remote_map("10.64.0.7", 1), b = remote_map("10.64.0.8", 2);
	struct epoll_event ev;

	peer_accept(p, ipr_clock_ms());
	assert_false(dpctl_synced(p->dp));
	assert_int_equal(p->dp->counters[DP_C_CTL_CONNECTS], 1);
	peer_send(p, IPR_CTL_EV_ADDED, IPR_CTL_OK, p->sub_id, &a);
	/* registered with the loop: the peer's messages wake it */
	assert_int_equal(epoll_wait(p->epoll_fd, &ev, 1, 5000), 1);
	assert_int_equal(ev.data.u64, 7);
	peer_send(p, IPR_CTL_EV_SNAPSHOT_DONE, IPR_CTL_OK, p->sub_id, NULL);
	assert_true(dpctl_on_readable(p->dp));
	assert_true(dpctl_synced(p->dp));
	assert_int_equal(maptab_remote_count(p->dp->tab), 1);

	peer_send(p, IPR_CTL_EV_ADDED, IPR_CTL_OK, p->sub_id, &b);
	peer_send(p, IPR_CTL_EV_REMOVED, IPR_CTL_OK, p->sub_id, &a);
	assert_true(dpctl_on_readable(p->dp));
	assert_int_equal(maptab_remote_count(p->dp->tab), 1);
	assert_null(maptab_find_encoded(p->dp->tab, 4, a.address));
	assert_non_null(maptab_find_encoded(p->dp->tab, 4, b.address));
	assert_int_equal(p->dp->counters[DP_C_EVENTS], 3);

	/* an event for another subscription id is not ours */
	peer_send(p, IPR_CTL_EV_ADDED, IPR_CTL_OK, p->sub_id + 1, &a);
	assert_false(dpctl_on_readable(p->dp));
	assert_int_equal(maptab_remote_count(p->dp->tab), 1);
}

/* A question goes once however many packets ask it; the answer is applied. */
static void test_questions(void **state)
{
	struct peer *p = *state;
	struct ipr_mapping l = local_map("10.0.0.5", 9);
	struct ipr_ctl_header hdr;
	struct ipr_ctl_fields f;
	uint8_t buf[IPR_CTL_MSG_MAX], probe;

	peer_accept(p, ipr_clock_ms());
	peer_send(p, IPR_CTL_EV_SNAPSHOT_DONE, IPR_CTL_OK, p->sub_id, NULL);
	assert_false(dpctl_on_readable(p->dp));

	dpctl_request_ref(p->dp, 4, l.address);
	dpctl_request_ref(p->dp, 4, l.address);
	peer_expect(p, IPR_CTL_GET_REF, &hdr, &f, buf);
	assert_int_equal(f.local_family, AF_INET);
	assert_memory_equal(f.local, l.address, 4);
	assert_string_equal(f.source, "dataplane");
	assert_int_equal(recv(p->fd, &probe, 1, MSG_DONTWAIT), -1); /* asked once */
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(p->dp->counters[DP_C_CTL_REQUESTS], 1);

	/* refused first (the question stays pending), then answered */
	peer_send(p, IPR_CTL_GET_REF | IPR_CTL_REPLY, IPR_CTL_E_EXHAUSTED, hdr.id, NULL);
	assert_false(dpctl_on_readable(p->dp));
	assert_int_equal(p->dp->counters[DP_C_CTL_REFUSED], 1);
	peer_send(p, IPR_CTL_GET_REF | IPR_CTL_REPLY, IPR_CTL_OK, hdr.id, &l);
	assert_true(dpctl_on_readable(p->dp));
	assert_non_null(maptab_find_local(p->dp->tab, 4, l.address));

	/* GET_EA for a remote host's reference */
	struct ipr_ref ref = { 0, 77 };
	uint8_t ctx[16] = { 198, 51, 100, 2 };
	dpctl_request_ea(p->dp, 4, 4, ctx, &ref);
	peer_expect(p, IPR_CTL_GET_EA, &hdr, &f, buf);
	assert_true(ipr_ref_equal(&f.ref, &ref));
	assert_int_equal(f.family, 4);
	assert_memory_equal(f.context, ctx, 4);
}

/* Used mappings and the counters go to gwctld every REPORT_MS. */
static void test_reports(void **state)
{
	struct peer *p = *state;
	struct ipr_mapping a = remote_map("10.64.0.7", 1);
	struct ipr_ctl_header hdr;
	struct ipr_ctl_fields f;
	uint8_t buf[IPR_CTL_MSG_MAX];
	int64_t now = ipr_clock_ms();
	struct maptab_remote *r;
	size_t len;

	peer_accept(p, now);
	peer_send(p, IPR_CTL_EV_ADDED, IPR_CTL_OK, p->sub_id, &a);
	peer_send(p, IPR_CTL_EV_SNAPSHOT_DONE, IPR_CTL_OK, p->sub_id, NULL);
	assert_true(dpctl_on_readable(p->dp));
	r = maptab_find_encoded(p->dp->tab, 4, a.address);
	assert_non_null(r);
	r->used = r->replied = true;
	p->dp->counters[DP_C_UDP_TX] = 42;

	dpctl_tick(p->dp, now + REPORT_MS + 1);
	peer_expect(p, IPR_CTL_REPORT_USE, &hdr, &f, buf);
	assert_int_equal(f.mappings, 1);
	len = peer_expect(p, IPR_CTL_REPORT_COUNTERS, &hdr, &f, buf);
	assert_string_equal(f.text, "dataplane");
	assert_true(f.counters > DP_C_COUNT);
	/* with the most workers shown too, gwctld still takes the report whole */
	assert_true(f.counters + DPCTL_WORKERS_REPORTED * DPCTL_WORKER_COUNTERS <=
		    IPR_CTL_REPORT_COUNTERS_MAX);
	assert_int_equal(p->dp->counters[DP_C_USE_REPORTED], 1);
	assert_false(r->used); /* reported: the mark is cleared */
	assert_int_equal(counter_in(buf, len, "udp.tx"), 42);
	assert_int_equal(counter_in(buf, len, "mappings.remote"), 1);
	assert_int_equal(counter_in(buf, len, "wait.now"), 0);
	assert_int_equal(counter_in(buf, len, "mappings.use_reported"), 1);

	/* not again before the next period */
	dpctl_tick(p->dp, now + REPORT_MS + 2);
	assert_int_equal(recv(p->fd, buf, 1, MSG_DONTWAIT), -1);
}

/* gwctld goes away: forwarding keeps its mappings; back, a fresh snapshot drops the stale ones. */
static void test_reconnect(void **state)
{
	struct peer *p = *state;
	struct ipr_mapping a = remote_map("10.64.0.7", 1), b = remote_map("10.64.0.8", 2);

	peer_accept(p, ipr_clock_ms());
	peer_send(p, IPR_CTL_EV_ADDED, IPR_CTL_OK, p->sub_id, &a);
	peer_send(p, IPR_CTL_EV_ADDED, IPR_CTL_OK, p->sub_id, &b);
	peer_send(p, IPR_CTL_EV_SNAPSHOT_DONE, IPR_CTL_OK, p->sub_id, NULL);
	assert_true(dpctl_on_readable(p->dp));
	assert_int_equal(maptab_remote_count(p->dp->tab), 2);

	close(p->fd);
	p->fd = -1;
	assert_false(dpctl_on_readable(p->dp));
	assert_false(dpctl_synced(p->dp));
	assert_int_equal(maptab_remote_count(p->dp->tab), 2); /* still forwarding */

	/* not at once: after the reconnect delay */
	dpctl_tick(p->dp, ipr_clock_ms());
	assert_int_equal(p->dp->counters[DP_C_CTL_CONNECTS], 1);
	peer_accept(p, ipr_clock_ms() + 60000);
	assert_int_equal(p->dp->counters[DP_C_CTL_CONNECTS], 2);
	/* b went while the link was down: the new snapshot has a only */
	peer_send(p, IPR_CTL_EV_ADDED, IPR_CTL_OK, p->sub_id, &a);
	peer_send(p, IPR_CTL_EV_SNAPSHOT_DONE, IPR_CTL_OK, p->sub_id, NULL);
	assert_true(dpctl_on_readable(p->dp));
	assert_true(dpctl_synced(p->dp));
	assert_int_equal(maptab_remote_count(p->dp->tab), 1);
	assert_non_null(maptab_find_encoded(p->dp->tab, 4, a.address));
}

/* Garbage from the peer is skipped, never fatal. */
static void test_bad_messages(void **state)
{
	struct peer *p = *state;
	struct ipr_mapping a = remote_map("10.64.0.7", 1);
	uint8_t junk[16] = { 0xff, 1, 2, 3 };

	peer_accept(p, ipr_clock_ms());
	assert_int_equal(send(p->fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	a.context.kind = 0; /* a mapping without a context */
	peer_send(p, IPR_CTL_EV_ADDED, IPR_CTL_OK, p->sub_id, &a);
	peer_send(p, IPR_CTL_EV_SNAPSHOT_DONE, IPR_CTL_OK, p->sub_id, NULL);
	assert_false(dpctl_on_readable(p->dp));
	assert_true(dpctl_synced(p->dp));
	assert_int_equal(maptab_remote_count(p->dp->tab), 0);
}

/* EV_LAYOUT: gwctld's reload changed the layout; the dataplane asks RANGES again and follows. */
static void test_layout(void **state)
{
	struct peer *p = *state;
	struct ipr_ctl_header hdr;
	struct ipr_ctl_fields f;
	uint8_t buf[IPR_CTL_MSG_MAX], addr[16] = { 0 };

	peer_accept(p, ipr_clock_ms());
	peer_send(p, IPR_CTL_EV_SNAPSHOT_DONE, IPR_CTL_OK, p->sub_id, NULL);
	assert_false(dpctl_on_readable(p->dp));
	assert_true(dpctl_synced(p->dp));
	assert_true(p->dp->layout.known);
	assert_int_equal(applied, 1);
	assert_false(applied_old.known);
	assert_true(p->dp->layout.has_range[0]);
	assert_false(p->dp->layout.has_range[1]);
	assert_int_equal(p->dp->layout.range[0].len, 16);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.1", addr), 1);
	assert_int_equal(p->dp->own4.ver, 4);
	assert_memory_equal(p->dp->own4.bytes, addr, 4);
	assert_int_equal(p->dp->own6.ver, 0);
	assert_true(p->dp->has_icmp_src4);
	assert_int_equal(p->dp->counters[DP_C_LAYOUT_CHANGES], 0); /* the first is no change */

	/* a reload moved the range and the address: asked again, followed */
	peer_send(p, IPR_CTL_EV_LAYOUT, IPR_CTL_OK, p->sub_id, NULL);
	assert_false(dpctl_on_readable(p->dp));
	peer_expect(p, IPR_CTL_RANGES, &hdr, &f, buf);
	peer_send_ranges(p, hdr.id, "10.65.0.0", 16, "192.0.2.9");
	assert_false(dpctl_on_readable(p->dp));
	assert_int_equal(applied, 2);
	assert_true(applied_old.known);
	assert_int_equal(applied_old.range[0].addr[1], 64);
	assert_int_equal(p->dp->layout.range[0].addr[1], 65);
	assert_int_equal(p->dp->own4.bytes[3], 9);
	assert_int_equal(p->dp->icmp_src4[1], 65); /* the gateway's address in the new range */
	assert_int_equal(p->dp->counters[DP_C_LAYOUT_CHANGES], 1);

	/* told again with nothing changed: nothing to do */
	peer_send(p, IPR_CTL_EV_LAYOUT, IPR_CTL_OK, p->sub_id, NULL);
	assert_false(dpctl_on_readable(p->dp));
	peer_expect(p, IPR_CTL_RANGES, &hdr, &f, buf);
	peer_send_ranges(p, hdr.id, "10.65.0.0", 16, "192.0.2.9");
	assert_false(dpctl_on_readable(p->dp));
	assert_int_equal(applied, 2);
	assert_int_equal(p->dp->counters[DP_C_LAYOUT_CHANGES], 1);

	/* the I/O side cannot follow: counted, the link and the tables go on */
	apply_rc = -EPERM;
	peer_send(p, IPR_CTL_EV_LAYOUT, IPR_CTL_OK, p->sub_id, NULL);
	assert_false(dpctl_on_readable(p->dp));
	peer_expect(p, IPR_CTL_RANGES, &hdr, &f, buf);
	peer_send_ranges(p, hdr.id, "10.66.0.0", 16, "192.0.2.9");
	assert_false(dpctl_on_readable(p->dp));
	assert_int_equal(p->dp->counters[DP_C_LAYOUT_FAILED], 1);
	assert_true(dpctl_synced(p->dp));

	/* a refused RANGES keeps the layout held */
	peer_send(p, IPR_CTL_EV_LAYOUT, IPR_CTL_OK, p->sub_id, NULL);
	assert_false(dpctl_on_readable(p->dp));
	peer_expect(p, IPR_CTL_RANGES, &hdr, &f, buf);
	peer_send(p, IPR_CTL_RANGES | IPR_CTL_REPLY, IPR_CTL_E_INVALID, hdr.id, NULL);
	assert_false(dpctl_on_readable(p->dp));
	assert_int_equal(p->dp->counters[DP_C_LAYOUT_BAD], 1);
	assert_int_equal(p->dp->layout.range[0].addr[1], 66);

	/* a RANGES reply nobody asked for is ignored */
	peer_send_ranges(p, hdr.id + 1000, "10.67.0.0", 16, "192.0.2.9");
	assert_false(dpctl_on_readable(p->dp));
	assert_int_equal(p->dp->layout.range[0].addr[1], 66);
}

/* A layout that cannot be held is refused whole: a range twice, more addresses than fit. */
static void test_layout_refusals(void **state)
{
	uint8_t buf[IPR_CTL_MSG_MAX], v4[16] = { 10, 240 }, gw[16] = { 192, 0, 2 };
	struct ipr_ctl_builder b;
	struct dp_layout l;
	size_t n;

	(void)state;
	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_RANGES | IPR_CTL_REPLY, 0, 1);
	ipr_ctl_put_range(&b, IPR_CTL_A_RANGE, AF_INET, v4, 16);
	ipr_ctl_put_range(&b, IPR_CTL_A_RANGE, AF_INET, v4, 12);
	assert_int_equal(ipr_ctl_finish(&b, &n), 0);
	assert_int_equal(dp_layout_decode(buf + IPR_CTL_HEADER_LEN, n - IPR_CTL_HEADER_LEN, &l),
			 -EBADMSG);

	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_RANGES | IPR_CTL_REPLY, 0, 1);
	for (int i = 0; i <= DP_GATEWAYS_MAX; i++) {
		gw[3] = (uint8_t)(i + 1);
		ipr_ctl_put_ip(&b, IPR_CTL_A_GATEWAY, AF_INET, gw);
	}
	assert_int_equal(ipr_ctl_finish(&b, &n), 0);
	assert_int_equal(dp_layout_decode(buf + IPR_CTL_HEADER_LEN, n - IPR_CTL_HEADER_LEN, &l),
			 -EBADMSG);

	/* nothing at all is a layout too: no routes, no address of ours */
	assert_int_equal(dp_layout_decode(buf, 0, &l), 0);
	assert_true(l.known && !l.has_range[0] && !l.has_range[1] && l.gateway_count == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_snapshot_and_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
		cmocka_unit_test(test_layout_refusals),
		cmocka_unit_test_setup_teardown(test_questions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_messages, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
