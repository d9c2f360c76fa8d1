/* The fake I/O sink of the forwarding tests. */
#include "fake_sink.h"

#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static uint8_t *send_slot(void *ctx, int family)
{
	struct fake_sink *s = ctx;

	if ((family == AF_INET && s->no_ipv4) || (family == AF_INET6 && s->no_ipv6))
		return NULL;
	return s->slot;
}

static void send_commit(void *ctx, int family, size_t len, const struct sockaddr_storage *to)
{
	struct fake_sink *s = ctx;
	struct fake_pkt *p;

	assert_true(s->sent_n < FAKE_MAX);
	assert_true(len <= FAKE_LEN);
	p = &s->sent[s->sent_n++];
	p->family = family;
	p->len = len;
	p->to = *to;
	memcpy(p->buf, s->slot, len);
}

static int tun_write(void *ctx, const uint8_t *pkt, size_t len)
{
	struct fake_sink *s = ctx;
	struct fake_pkt *p;

	if (s->tun_fails)
		return -XLATE_DROP_SEND_FAILED;
	assert_true(s->tun_n < FAKE_MAX);
	assert_true(len <= FAKE_LEN);
	p = &s->tun[s->tun_n++];
	p->len = len;
	memcpy(p->buf, pkt, len);
	return 0;
}

static void want_ref(void *ctx, uint8_t ver, const uint8_t *addr)
{
	(void)ver;
	(void)addr;
	((struct fake_sink *)ctx)->want_ref_n++;
}

static void want_ea(void *ctx, uint8_t ver, uint8_t ctx_ver, const uint8_t *c,
		    const struct ipr_ref *ref)
{
	(void)ver;
	(void)ctx_ver;
	(void)c;
	(void)ref;
	((struct fake_sink *)ctx)->want_ea_n++;
}

static const struct dp_sink_ops fake_ops = {
	.send_slot = send_slot,
	.send_commit = send_commit,
	.tun_write = tun_write,
	.want_ref = want_ref,
	.want_ea = want_ea,
};

void fake_sink_attach(struct dp *dp, struct fake_sink *s)
{
	dp->sink = &fake_ops;
	dp->sink_ctx = s;
}
