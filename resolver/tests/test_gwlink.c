/* Unit tests of the gwctld link without waits: RANGES, pipelined GET_EA, hold-off, hang-ups. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "gwlink.h"

/* A stand-in for gwctld: one listening socket in a folder of its own, one accepted peer. */
struct fake {
	char dir[64];
	int listener;
	int peer;
	struct resolver_settings settings;
	struct gwlink link;
};

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_gwlink.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	settings_defaults(&f->settings);
	snprintf(f->settings.socket, sizeof(f->settings.socket), "%s/gwctl.sock", f->dir);
	f->settings.holdoff_ms = 60000;
	strcpy(sun.sun_path, f->settings.socket);
	f->listener = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_true(f->listener >= 0);
	assert_int_equal(bind(f->listener, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(f->listener, 4), 0);
	f->peer = -1;
	gwlink_init(&f->link, &f->settings);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;

	gwlink_deinit(&f->link);
	if (f->peer >= 0)
		close(f->peer);
	close(f->listener);
	unlink(f->settings.socket);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The next request the fake received: its header. */
static struct ipr_ctl_header take_request(struct fake *f)
{
	uint8_t buf[IPR_CTL_MSG_MAX];
	struct ipr_ctl_header hdr;
	const uint8_t *attrs;
	size_t attrs_len;
	ssize_t n;

	if (f->peer < 0) {
		f->peer = accept(f->listener, NULL, NULL);
		assert_true(f->peer >= 0);
	}
	n = recv(f->peer, buf, sizeof(buf), 0);
	assert_true(n > 0);
	assert_int_equal(ipr_ctl_decode(buf, (size_t)n, &hdr, &attrs, &attrs_len), 0);
	return hdr;
}

static void send_reply(struct fake *f, struct ipr_ctl_builder *b)
{
	size_t len;

	assert_int_equal(ipr_ctl_finish(b, &len), 0);
	assert_int_equal(send(f->peer, b->buf, len, 0), (ssize_t)len);
}

static void answer_ranges(struct fake *f, uint32_t id)
{
	uint8_t buf[256];
	struct ipr_ctl_builder b;
	const uint8_t v4[4] = { 10, 240, 0, 0 }, gw[4] = { 192, 0, 2, 254 };

	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_RANGES | IPR_CTL_REPLY, IPR_CTL_OK, id);
	ipr_ctl_put_range(&b, IPR_CTL_A_RANGE, AF_INET, v4, 12);
	ipr_ctl_put_ip(&b, IPR_CTL_A_GATEWAY, AF_INET, gw);
	send_reply(f, &b);
}

static void answer_ea(struct fake *f, uint32_t id, uint8_t last)
{
	uint8_t buf[256];
	struct ipr_ctl_builder b;
	const uint8_t ea[4] = { 10, 240, 0, last };

	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_GET_EA | IPR_CTL_REPLY, IPR_CTL_OK, id);
	ipr_ctl_put_ip(&b, IPR_CTL_A_ENCODED, AF_INET, ea);
	ipr_ctl_put_u32(&b, IPR_CTL_A_TTL, 3600);
	send_reply(f, &b);
}

/* Waits (bounded) until the link's socket has something to read. */
static void wait_readable(struct fake *f)
{
	struct pollfd pfd = { .fd = ipr_ctl_client_fd(f->link.client), .events = POLLIN };

	assert_int_equal(poll(&pfd, 1, 5000), 1);
}

/* Opens the link and answers its RANGES, as every test needs first. */
static void open_ready(struct fake *f)
{
	struct ipr_ctl_reply reply;
	struct ipr_ctl_header hdr;

	assert_int_equal(gwlink_open(&f->link), -EINPROGRESS);
	assert_int_equal(gwlink_open(&f->link), -EINPROGRESS); /* asked once per connection */
	hdr = take_request(f);
	assert_int_equal(hdr.kind, IPR_CTL_RANGES);
	assert_int_equal(hdr.id, f->link.ranges_id);
	assert_int_equal(gwlink_receive(&f->link, &reply), GWLINK_NOTHING); /* nothing waits */
	answer_ranges(f, hdr.id);
	wait_readable(f);
	assert_int_equal(gwlink_receive(&f->link, &reply), GWLINK_RANGES);
	assert_true(f->link.layout.known);
	assert_true(f->link.layout.has_range[0]);
	assert_false(f->link.layout.has_range[1]);
	assert_int_equal(gwlink_open(&f->link), 0);
}

static struct gwlink_ea ea_for(uint8_t ref)
{
	struct gwlink_ea ea = { .family = AF_INET, .name = "x.example" };

	ea.context.family = AF_INET;
	ea.context.addr[0] = 198;
	ea.context.addr[1] = 51;
	ea.context.addr[2] = 100;
	ea.context.addr[3] = 1;
	ea.ref.lo = ref;
	return ea;
}

static void test_pipelined_replies_in_any_order(void **state)
{
	struct fake *f = *state;
	struct gwlink_ea eas[3] = { ea_for(1), ea_for(2), ea_for(3) };
	struct ipr_ctl_header hdr[3];
	struct ipr_ctl_reply reply;
	size_t got = 0;

	open_ready(f);
	assert_int_equal(gwlink_send_get_eas(&f->link, eas, 3), 0);
	for (int i = 0; i < 3; i++) {
		hdr[i] = take_request(f);
		assert_int_equal(hdr[i].kind, IPR_CTL_GET_EA);
		assert_int_equal(hdr[i].id, eas[i].id);
		assert_int_equal(eas[i].status, 0xff);
	}
	/* nothing waits: the link never blocks */
	assert_int_equal(gwlink_receive(&f->link, &reply), GWLINK_NOTHING);
	for (int i = 2; i >= 0; i--)
		answer_ea(f, hdr[i].id, (uint8_t)(10 + i));
	while (got < 3) {
		wait_readable(f);
		assert_int_equal(gwlink_receive(&f->link, &reply), GWLINK_REPLY);
		for (int i = 0; i < 3; i++)
			if (eas[i].id == reply.hdr.id) {
				assert_true(gwlink_take_ea(&eas[i], &reply));
				got++;
			}
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(eas[i].status, IPR_CTL_OK);
		assert_int_equal(eas[i].encoded.addr[3], 10 + i);
		assert_int_equal(eas[i].ttl, 3600);
	}
}

static void test_wrong_family_refused(void **state)
{
	struct fake *f = *state;
	struct gwlink_ea ea = ea_for(1);
	struct ipr_ctl_reply reply;

	open_ready(f);
	ea.family = AF_INET6;
	assert_int_equal(gwlink_send_get_eas(&f->link, &ea, 1), 0);
	answer_ea(f, take_request(f).id, 1); /* an IPv4 address for an IPv6 question */
	wait_readable(f);
	assert_int_equal(gwlink_receive(&f->link, &reply), GWLINK_REPLY);
	assert_false(gwlink_take_ea(&ea, &reply));
}

static void test_lookup_ea(void **state)
{
	struct fake *f = *state;
	struct synth_ip ip = { .family = AF_INET, .addr = { 10, 240, 0, 7 } };
	struct ipr_ctl_reply reply;
	struct ipr_ctl_builder b;
	uint8_t buf[256];
	char name[IPR_NAME_MAX + 1];
	uint32_t id, ttl;

	open_ready(f);
	assert_int_equal(gwlink_send_lookup_ea(&f->link, &ip, &id), 0);
	assert_int_equal(take_request(f).kind, IPR_CTL_LOOKUP_EA);
	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_LOOKUP_EA | IPR_CTL_REPLY, IPR_CTL_OK, id);
	ipr_ctl_put_text(&b, IPR_CTL_A_NAME, "b6.example.net");
	ipr_ctl_put_u32(&b, IPR_CTL_A_TTL, 60);
	send_reply(f, &b);
	wait_readable(f);
	assert_int_equal(gwlink_receive(&f->link, &reply), GWLINK_REPLY);
	assert_int_equal(gwlink_take_name(&reply, name, &ttl), 0);
	assert_string_equal(name, "b6.example.net");
	assert_int_equal(ttl, 60);
	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_LOOKUP_EA | IPR_CTL_REPLY, IPR_CTL_E_NOT_FOUND,
		      id);
	send_reply(f, &b);
	wait_readable(f);
	assert_int_equal(gwlink_receive(&f->link, &reply), GWLINK_REPLY);
	assert_int_equal(gwlink_take_name(&reply, name, &ttl), -ENOENT);
	/* gwctld's store failed: told apart from other refusals */
	ipr_ctl_build(&b, buf, sizeof(buf), IPR_CTL_LOOKUP_EA | IPR_CTL_REPLY, IPR_CTL_E_STORE, id);
	send_reply(f, &b);
	wait_readable(f);
	assert_int_equal(gwlink_receive(&f->link, &reply), GWLINK_REPLY);
	assert_int_equal(gwlink_take_name(&reply, name, &ttl), -EIO);
	/* a GET_EA reply is no LOOKUP_EA reply */
	answer_ea(f, id, 1);
	wait_readable(f);
	assert_int_equal(gwlink_receive(&f->link, &reply), GWLINK_REPLY);
	assert_int_equal(gwlink_take_name(&reply, name, &ttl), -EPROTO);
}

static void test_holdoff_ended_by_late_reply(void **state)
{
	struct fake *f = *state;
	struct gwlink_ea ea = ea_for(1);
	struct ipr_ctl_reply reply;
	uint32_t late;

	open_ready(f);
	assert_int_equal(gwlink_send_get_eas(&f->link, &ea, 1), 0);
	late = take_request(f).id;
	gwlink_timed_out(&f->link);
	assert_int_equal(f->link.counters.timeouts, 1);
	/* held off: fails at once, the connection kept */
	assert_int_equal(gwlink_open(&f->link), -EAGAIN);
	assert_int_equal(f->link.counters.held_off, 1);
	assert_non_null(f->link.client);
	/* the late reply ends it: the daemon was only slow */
	answer_ea(f, late, 1);
	wait_readable(f);
	assert_int_equal(gwlink_open(&f->link), 0);
	assert_int_equal(f->link.counters.recovered, 1);
	/* the late reply is read (and nobody takes it: its id was given up on) */
	assert_int_equal(gwlink_receive(&f->link, &reply), GWLINK_REPLY);
	assert_int_equal(reply.hdr.id, late);
}

static void test_hangup_reconnects(void **state)
{
	struct fake *f = *state;
	uint64_t connection;

	open_ready(f);
	connection = f->link.connection;
	close(f->peer);
	f->peer = -1;
	/* a new connection at once, with its own RANGES; the old one's requests are lost */
	assert_int_equal(gwlink_open(&f->link), -EINPROGRESS);
	assert_int_equal(f->link.connection, connection + 1);
	assert_int_equal(take_request(f).kind, IPR_CTL_RANGES);
}

static void test_bad_reply_drops(void **state)
{
	struct fake *f = *state;
	struct ipr_ctl_reply reply;
	const uint8_t junk[5] = { 1, 2, 3, 4, 5 };
	uint64_t connection;

	open_ready(f);
	connection = f->link.connection;
	assert_int_equal(send(f->peer, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	wait_readable(f);
	assert_int_equal(gwlink_receive(&f->link, &reply), -EBADMSG);
	assert_null(f->link.client);
	assert_int_equal(f->link.connection, connection + 1);
	assert_int_equal(gwlink_receive(&f->link, &reply), GWLINK_NOTHING);
}

static void test_daemon_away(void **state)
{
	struct fake *f = *state;
	struct gwlink_ea ea = ea_for(1);

	close(f->listener);
	unlink(f->settings.socket);
	f->listener = socket(AF_UNIX, SOCK_SEQPACKET, 0); /* for teardown */
	assert_int_equal(gwlink_open(&f->link), -ENOENT);
	assert_int_equal(gwlink_send_get_eas(&f->link, &ea, 1), -ENOTCONN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pipelined_replies_in_any_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrong_family_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_ea, setup, teardown),
		cmocka_unit_test_setup_teardown(test_holdoff_ended_by_late_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hangup_reconnects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_reply_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_daemon_away, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
