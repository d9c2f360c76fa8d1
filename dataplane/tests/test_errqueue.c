/* The error-queue reader: each kind of kernel error, cut messages, several in one buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <time.h> /* before linux/errqueue.h, which needs struct timespec */
#include <linux/errqueue.h>
#include <netinet/in.h>

#include "errqueue.h"

/* A control buffer as recvmsg fills it: messages one after another, each padded to alignment. */
struct ctrl {
	_Alignas(struct cmsghdr) uint8_t buf[512];
	size_t len;
};

/* The message as the kernel writes it: sock_extended_err, then the offender's address. */
static struct cmsghdr *add(struct ctrl *c, int level, int type, uint32_t err, uint8_t origin,
			   uint8_t icmp_type, uint8_t icmp_code, uint32_t info)
{
	struct cmsghdr *h = (struct cmsghdr *)(c->buf + c->len);
	struct sock_extended_err ee = { .ee_errno = err,
					.ee_origin = origin,
					.ee_type = icmp_type,
					.ee_code = icmp_code,
					.ee_info = info };
	size_t data = sizeof(ee) + (level == IPPROTO_IPV6 ? sizeof(struct sockaddr_in6)
							  : sizeof(struct sockaddr_in));

	assert_true(c->len + CMSG_SPACE(data) <= sizeof(c->buf));
	memset(h, 0, CMSG_SPACE(data));
	h->cmsg_level = level;
	h->cmsg_type = type;
	h->cmsg_len = CMSG_LEN(data);
	memcpy(CMSG_DATA(h), &ee, sizeof(ee));
	c->len += CMSG_SPACE(data);
	return h;
}

static struct cmsghdr *add_v4(struct ctrl *c, uint32_t err, uint8_t origin, uint8_t type,
			      uint8_t code, uint32_t info)
{
	return add(c, IPPROTO_IP, IP_RECVERR, err, origin, type, code, info);
}

static struct cmsghdr *add_v6(struct ctrl *c, uint32_t err, uint8_t origin, uint8_t type,
			      uint8_t code, uint32_t info)
{
	return add(c, IPPROTO_IPV6, IPV6_RECVERR, err, origin, type, code, info);
}

/* Every answer for the buffer, its first controllen bytes. */
static size_t walk(const struct ctrl *c, size_t controllen, enum errqueue_kind *kinds,
		   uint32_t *mtus, size_t max)
{
	struct msghdr m = { .msg_control = (void *)c->buf, .msg_controllen = controllen };
	struct errqueue_walk w;
	enum errqueue_kind kind;
	size_t n = 0;
	uint32_t mtu;

	errqueue_begin(&w, &m);
	while (mtu = 0, (kind = errqueue_next(&w, &mtu)) != ERRQUEUE_END) {
		assert_true(n < max);
		kinds[n] = kind;
		mtus[n++] = mtu;
	}
	assert_int_equal(errqueue_next(&w, &mtu), ERRQUEUE_END);
	return n;
}

/* One error message alone: what it says and the MTU, if any. */
static void one(const struct ctrl *c, enum errqueue_kind want, uint32_t want_mtu)
{
	enum errqueue_kind kinds[4];
	uint32_t mtus[4];

	assert_int_equal(walk(c, c->len, kinds, mtus, 4), 1);
	assert_int_equal(kinds[0], want);
	assert_int_equal(mtus[0], want_mtu);
}

static void test_too_big(void **state)
{
	struct ctrl v4 = { .len = 0 }, v6 = { .len = 0 }, local = { .len = 0 };

	add_v4(&v4, EMSGSIZE, SO_EE_ORIGIN_ICMP, 3, 4, 1400);
	one(&v4, ERRQUEUE_TOO_BIG, 1400);
	add_v6(&v6, EMSGSIZE, SO_EE_ORIGIN_ICMP6, 2, 0, 1280);
	one(&v6, ERRQUEUE_TOO_BIG, 1280);
	/* a narrower outgoing link of our own: no ICMP, the kernel's EMSGSIZE */
	add_v4(&local, EMSGSIZE, SO_EE_ORIGIN_LOCAL, 0, 0, 1300);
	one(&local, ERRQUEUE_TOO_BIG, 1300);
}

static void test_other_errors(void **state)
{
	struct ctrl port = { .len = 0 }, v6 = { .len = 0 }, local = { .len = 0 };
	struct ctrl zero = { .len = 0 }, code = { .len = 0 };

	add_v4(&port, ECONNREFUSED, SO_EE_ORIGIN_ICMP, 3, 3, 0);
	one(&port, ERRQUEUE_OTHER, 0);
	add_v6(&v6, EHOSTUNREACH, SO_EE_ORIGIN_ICMP6, 1, 3, 0);
	one(&v6, ERRQUEUE_OTHER, 0);
	add_v4(&local, ENOBUFS, SO_EE_ORIGIN_LOCAL, 0, 0, 1300);
	one(&local, ERRQUEUE_OTHER, 0);
	/* too big without an MTU to go by */
	add_v4(&zero, EMSGSIZE, SO_EE_ORIGIN_ICMP, 3, 4, 0);
	one(&zero, ERRQUEUE_OTHER, 0);
	/* unreachable with an MTU-like info but another code */
	add_v4(&code, EHOSTUNREACH, SO_EE_ORIGIN_ICMP, 3, 1, 1400);
	one(&code, ERRQUEUE_OTHER, 0);
}

/* A message shorter than its sock_extended_err is an error, never read past its length. */
static void test_truncated(void **state)
{
	struct ctrl c = { .len = 0 }, cut = { .len = 0 };
	enum errqueue_kind kinds[4];
	uint32_t mtus[4];
	struct cmsghdr *h;

	/* the bytes after cmsg_len would say "too big, 1400" */
	h = add_v4(&c, EMSGSIZE, SO_EE_ORIGIN_ICMP, 3, 4, 1400);
	h->cmsg_len = CMSG_LEN(sizeof(struct sock_extended_err) - 1);
	one(&c, ERRQUEUE_OTHER, 0);
	h->cmsg_len = sizeof(struct cmsghdr);
	one(&c, ERRQUEUE_OTHER, 0);

	/* and one whose cmsg_len runs past the end of what recvmsg filled */
	add_v4(&cut, EMSGSIZE, SO_EE_ORIGIN_ICMP, 3, 4, 1400);
	assert_int_equal(walk(&cut, CMSG_LEN(sizeof(struct sock_extended_err)) - 1, kinds, mtus, 4),
			 1);
	assert_int_equal(kinds[0], ERRQUEUE_OTHER);
	/* too short for a header: nothing at all */
	assert_int_equal(walk(&cut, sizeof(struct cmsghdr) - 1, kinds, mtus, 4), 0);
	assert_int_equal(walk(&cut, 0, kinds, mtus, 4), 0);
}

static void test_several(void **state)
{
	struct ctrl c = { .len = 0 };
	enum errqueue_kind kinds[4];
	uint32_t mtus[4];
	struct cmsghdr *stamp = (struct cmsghdr *)c.buf;

	/* a message of another level first, which is no error at all */
	memset(stamp, 0, CMSG_SPACE(16));
	stamp->cmsg_level = SOL_SOCKET;
	stamp->cmsg_type = SO_TIMESTAMPNS;
	stamp->cmsg_len = CMSG_LEN(16);
	c.len = CMSG_SPACE(16);
	add_v4(&c, ECONNREFUSED, SO_EE_ORIGIN_ICMP, 3, 3, 0);
	add_v6(&c, EMSGSIZE, SO_EE_ORIGIN_ICMP6, 2, 0, 1350);
	assert_int_equal(walk(&c, c.len, kinds, mtus, 4), 2);
	assert_int_equal(kinds[0], ERRQUEUE_OTHER);
	assert_int_equal(kinds[1], ERRQUEUE_TOO_BIG);
	assert_int_equal(mtus[1], 1350);

	/* two too-bigs: each is learnt in turn */
	c.len = 0;
	add_v4(&c, EMSGSIZE, SO_EE_ORIGIN_ICMP, 3, 4, 1400);
	add_v4(&c, EMSGSIZE, SO_EE_ORIGIN_LOCAL, 0, 0, 1300);
	assert_int_equal(walk(&c, c.len, kinds, mtus, 4), 2);
	assert_true(kinds[0] == ERRQUEUE_TOO_BIG && kinds[1] == ERRQUEUE_TOO_BIG);
	assert_true(mtus[0] == 1400 && mtus[1] == 1300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_other_errors),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_several),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
