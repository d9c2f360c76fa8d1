/*
 * Forwarding: a local packet to a peer's datagram and a peer's datagram to a local packet, around
 * the pure translation core. Output and questions go down through dp->sink; nothing here reads.
 */
#include "forward.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "forward_internal.h"
#include "icmp_reply.h"
#include "pmtu.h"

/* A packet waits this long for gwctld to allocate the mapping it needs. */
#define WAIT_MS 2000
/* The result of a path that lacks a mapping gwctld has been asked for. */
#define NEEDS_WAIT 1

static void count_drop(struct dp *dp, int rc)
{
	if (rc < 0 && -rc < XLATE_DROP_COUNT)
		dp->drops[-rc]++;
}

int forward_init(struct dp *dp)
{
	size_t s = dp->slot_size;

	dp->wait_n = dp->cfg.wait_slots;
	dp->wait_now = 0;
	dp->tun_out = malloc(s);
	dp->wait = calloc(dp->wait_n ? dp->wait_n : 1, sizeof(*dp->wait));
	dp->wait_mem = malloc((dp->wait_n ? dp->wait_n : 1) * s);
	dp->frag_in = malloc(s);
	dp->icmp_out = malloc(s);
	dp->icmpfrag_pkt = malloc(s);
	if (!dp->tun_out || !dp->wait || !dp->wait_mem || !dp->frag_in || !dp->icmp_out ||
	    !dp->icmpfrag_pkt || icmpfrag_init(&dp->icmpfrag, s) < 0)
		return -ENOMEM;
	int rc = pmtu_new(&dp->pmtu);
	if (rc < 0)
		return rc;
	dp->pmtu_floor = dp->cfg.mtu;
	randombytes_buf(&dp->frag_rng, sizeof(dp->frag_rng));
	dp->frag_rng |= 1; /* xorshift never leaves 0 */
	forward_icmp_init(dp);
	for (unsigned i = 0; i < dp->wait_n; i++)
		dp->wait[i].pkt = dp->wait_mem + i * s;
	return 0;
}

void forward_deinit(struct dp *dp)
{
	free(dp->tun_out);
	free(dp->wait);
	free(dp->wait_mem);
	free(dp->frag_in);
	free(dp->icmp_out);
	free(dp->icmpfrag_pkt);
	icmpfrag_deinit(&dp->icmpfrag);
	pmtu_free(dp->pmtu);
}

static void set_peer(struct sockaddr_storage *ss, uint8_t ver, const uint8_t *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (ver == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, addr, 16);
	}
}

static bool flow_out_hit(struct dp *dp, const struct xlate_local *p, struct maptab_remote **r,
			 struct maptab_local **l)
{
	const struct dp_flow_out *f = &dp->flow_out;

	if (f->generation != maptab_generation(dp->tab) || f->ver != p->ver ||
	    memcmp(f->dst, p->dst, 16) != 0 || memcmp(f->src, p->src, 16) != 0)
		return false;
	*r = f->r;
	*l = f->l;
	return true;
}

static void flow_out_keep(struct dp *dp, const struct xlate_local *p, struct maptab_remote *r,
			  struct maptab_local *l)
{
	struct dp_flow_out *f = &dp->flow_out;

	f->generation = maptab_generation(dp->tab);
	f->ver = p->ver;
	memcpy(f->src, p->src, 16);
	memcpy(f->dst, p->dst, 16);
	f->r = r;
	f->l = l;
}

static bool flow_in_hit(struct dp *dp, const struct dp_wire_hdr *h, struct maptab_remote **r,
			struct maptab_local **l)
{
	const struct dp_flow_in *f = &dp->flow_in;

	if (f->generation != maptab_generation(dp->tab) || f->ctx_ver != h->ctx_ver ||
	    !ipr_ref_equal(&f->src_ref, &h->src_ref) || !ipr_ref_equal(&f->dst_ref, &h->dst_ref) ||
	    memcmp(f->ctx, h->src_ctx, 16) != 0)
		return false;
	*r = f->r;
	*l = f->l;
	return true;
}

static void flow_in_keep(struct dp *dp, const struct dp_wire_hdr *h, struct maptab_remote *r,
			 struct maptab_local *l)
{
	struct dp_flow_in *f = &dp->flow_in;

	f->generation = maptab_generation(dp->tab);
	f->ctx_ver = h->ctx_ver;
	memcpy(f->ctx, h->src_ctx, 16);
	f->src_ref = h->src_ref;
	f->dst_ref = h->dst_ref;
	f->r = r;
	f->l = l;
}

/*
 * An ICMP error from a router (or this gateway's kernel) quotes a packet for another local
 * host than its sender: the quote needs that host's reference. Never allocated for a quote.
 */
static void quote_for_local(struct dp *dp, const struct xlate_local *p, struct xlate_out_map *map)
{
	struct maptab_local *q;
	uint8_t ver, addr[16];

	if (xlate_local_quote_dst(p, &ver, addr) < 0 ||
	    (ver == p->ver && !memcmp(addr, p->src, 16)))
		return;
	q = maptab_find_local(dp->tab, ver, addr);
	if (q) {
		map->has_quote_ref = true;
		map->quote_ref = q->ref;
	}
}

/* Likewise inbound: the quote's remote host, when not the error's sender, needs its address. */
static void quote_for_remote(struct dp *dp, const struct xlate_remote *rr, uint8_t ver,
			     struct xlate_in_map *map)
{
	struct maptab_remote *q;
	struct ipr_ref ref;

	if (xlate_remote_quote_dst(rr, &ref) < 0 || ipr_ref_equal(&ref, &rr->hdr.src_ref))
		return;
	q = maptab_find_remote(dp->tab, ver, rr->hdr.ctx_ver, rr->hdr.src_ctx, &ref);
	if (q) {
		map->has_quote_ea = true;
		memcpy(map->quote_ea, q->encoded, 16);
	}
}

/*
 * The source's reference for a packet to r: the one r's peer last addressed this host by
 * when that is still one of the host's, else the host's first (published before dynamic).
 */
static struct maptab_local *local_for(struct dp *dp, const struct maptab_remote *r,
				      const struct xlate_local *p)
{
	struct maptab_local *l;

	if (r->has_via) {
		l = maptab_find_ref(dp->tab, &r->via);
		if (l && l->ver == p->ver && memcmp(l->addr, p->src, 16) == 0)
			return l;
	}
	return maptab_find_local(dp->tab, p->ver, p->src);
}

/* A local packet: 0 when batched, NEEDS_WAIT, or -reason. */
static int from_tun(struct dp *dp, const uint8_t *pkt, size_t len)
{
	struct xlate_local p;
	struct xlate_out_map map;
	struct maptab_remote *r;
	struct maptab_local *l;
	struct sockaddr_storage to;
	int family, rc = xlate_local_parse(pkt, len, &p);

	if (rc == -XLATE_DROP_PROTOCOL || rc == -XLATE_DROP_SOURCE_ROUTE)
		fwd_answer_local(dp, &p, pkt, len,
				 rc == -XLATE_DROP_PROTOCOL ? ICMP_REPLY_PROTO_UNREACHABLE
							    : ICMP_REPLY_SOURCE_ROUTE,
				 0);
	if (rc < 0)
		return rc;
	if (!flow_out_hit(dp, &p, &r, &l)) {
		r = maptab_find_encoded(dp->tab, p.ver, p.dst);
		if (!r) {
			fwd_answer_local(dp, &p, pkt, len, ICMP_REPLY_HOST_UNREACHABLE, 0);
			return -XLATE_DROP_NO_DST_MAPPING;
		}
		l = local_for(dp, r, &p);
		if (!l) {
			dp->sink->want_ref(dp->sink_ctx, p.ver, p.src);
			return NEEDS_WAIT;
		}
		flow_out_keep(dp, &p, r, l);
	}
	family = r->ctx_ver == 4 ? AF_INET : AF_INET6;
	if (!r->ctx_ver || !fwd_slot(dp, family))
		return -XLATE_DROP_NO_CONTEXT;
	rc = fwd_icmpfrag_out(dp, &p, pkt, len);
	if (rc != 0)
		return rc;
	memset(&map, 0, sizeof(map));
	map.src_ctx = r->ctx_ver == 4 ? dp->own4 : dp->own6;
	map.dst_ctx.ver = r->ctx_ver;
	memcpy(map.dst_ctx.bytes, r->ctx, 16);
	map.src_ref = l->ref;
	map.dst_ref = r->ref;
	quote_for_local(dp, &p, &map);
	rc = xlate_to_wire(&p, &map, fwd_slot(dp, family), dp->slot_size);
	if (rc < 0)
		return rc;
	set_peer(&to, r->ctx_ver, r->ctx, r->port ? r->port : dp->cfg.peer_port);
	rc = fwd_send_sized(dp, family, (size_t)rc, &to, &p, pkt, len);
	if (rc < 0)
		return rc;
	/* a packet from here: the mapping carried a reply, and reclaim must spare it */
	r->used = r->replied = l->used = true;
	fwd_icmpfrag_out_sent(dp, &p);
	return 0;
}

static void outer_of(const struct sockaddr_storage *ss, struct dp_wire_addr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		a->ver = 4;
		memcpy(a->bytes, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		a->ver = 6;
		memcpy(a->bytes, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
	}
}

/* A peer's datagram: 0 when written to the TUN device, NEEDS_WAIT, or -reason. */
static int from_udp(struct dp *dp, const uint8_t *pkt, size_t len,
		    const struct sockaddr_storage *from)
{
	struct dp_wire_addr outer;
	struct xlate_remote rr;
	struct xlate_in_map map;
	struct maptab_remote *r;
	struct maptab_local *l;
	uint16_t port;
	int rc;

	outer_of(from, &outer, &port);
	rc = xlate_wire_parse(pkt, len, &outer, outer.ver == 4 ? &dp->own4 : &dp->own6, &rr);
	if (rc == -XLATE_DROP_TTL)
		fwd_answer_peer(dp, &rr, pkt, len, from, ICMP_REPLY_TIME_EXCEEDED);
	if (rc < 0)
		return rc;
	if (!flow_in_hit(dp, &rr.hdr, &r, &l)) {
		l = maptab_find_ref(dp->tab, &rr.hdr.dst_ref);
		if (!l) {
			fwd_answer_peer(dp, &rr, pkt, len, from, ICMP_REPLY_HOST_UNREACHABLE);
			return -XLATE_DROP_NOT_OURS;
		}
		r = maptab_find_remote(dp->tab, l->ver, rr.hdr.ctx_ver, rr.hdr.src_ctx,
				       &rr.hdr.src_ref);
		if (!r) {
			dp->sink->want_ea(dp->sink_ctx, l->ver, rr.hdr.ctx_ver, rr.hdr.src_ctx,
					  &rr.hdr.src_ref);
			return NEEDS_WAIT;
		}
		flow_in_keep(dp, &rr.hdr, r, l);
	}
	if (!r->has_via || !ipr_ref_equal(&r->via, &l->ref)) {
		r->via = l->ref;
		r->has_via = true;
		dp->flow_out.generation =
			0; /* the cached outbound flow may use the other reference */
	}
	/* replies go where the peer's packets come from: that is how gateways behind NAT work */
	if (r->port != port) {
		r->port = port;
		dp->counters[DP_C_PORT_LEARNED]++;
	}
	memset(&map, 0, sizeof(map));
	map.src.ver = r->ver;
	memcpy(map.src.bytes, r->encoded, 16);
	map.dst.ver = l->ver;
	memcpy(map.dst.bytes, l->addr, 16);
	map.ipv4_id = dp->ipv4_id++;
	quote_for_remote(dp, &rr, l->ver, &map);
	rc = fwd_icmpfrag_in(dp, &rr, l->ver, pkt, len, from);
	if (rc != 0)
		return rc;
	rc = xlate_to_local(&rr, &map, dp->tun_out, dp->slot_size);
	if (rc < 0)
		return rc;
	rc = dp->sink->tun_write(dp->sink_ctx, dp->tun_out, (size_t)rc);
	if (rc < 0)
		return rc;
	dp->counters[DP_C_TUN_TX]++;
	r->used = l->used = true;
	fwd_icmpfrag_in_sent(dp, &rr, l->ver);
	return 0;
}

/* A fresh packet that needs a mapping waits in a free slot, or is dropped when none is free. */
static void wait_put(struct dp *dp, bool from_udp_side, const uint8_t *pkt, size_t len,
		     const struct sockaddr_storage *from)
{
	for (unsigned i = 0; i < dp->wait_n; i++) {
		struct dp_wait_slot *w = &dp->wait[i];
		if (w->used)
			continue;
		w->used = true;
		w->from_udp = from_udp_side;
		w->deadline_ms = ipr_clock_ms() + WAIT_MS;
		w->len = len;
		if (from)
			w->from = *from;
		memcpy(w->pkt, pkt, len);
		dp->wait_now++;
		dp->counters[DP_C_WAIT_QUEUED]++;
		return;
	}
	dp->drops[from_udp_side ? XLATE_DROP_NO_SRC_EA : XLATE_DROP_NO_SRC_REF]++;
}

void fwd_redo_local(struct dp *dp, const uint8_t *pkt, size_t len)
{
	int rc = from_tun(dp, pkt, len);

	if (rc == NEEDS_WAIT)
		wait_put(dp, false, pkt, len, NULL);
	else
		count_drop(dp, rc);
}

void forward_local(struct dp *dp, const uint8_t *pkt, size_t len)
{
	dp->counters[DP_C_TUN_RX]++;
	if (xlate_local_is_link_traffic(pkt, len)) {
		dp->counters[DP_C_TUN_KERNEL]++;
		return;
	}
	fwd_redo_local(dp, pkt, len);
}

void fwd_redo_remote(struct dp *dp, const uint8_t *pkt, size_t len,
		     const struct sockaddr_storage *from)
{
	int rc = from_udp(dp, pkt, len, from);

	if (rc == NEEDS_WAIT)
		wait_put(dp, true, pkt, len, from);
	else
		count_drop(dp, rc);
}

void forward_remote(struct dp *dp, const uint8_t *pkt, size_t len,
		    const struct sockaddr_storage *from)
{
	dp->counters[DP_C_UDP_RX]++;
	fwd_redo_remote(dp, pkt, len, from);
}

void forward_retry_waiting(struct dp *dp, int64_t now_ms)
{
	for (unsigned i = 0; i < dp->wait_n; i++) {
		struct dp_wait_slot *w = &dp->wait[i];
		int rc;

		if (!w->used)
			continue;
		rc = w->from_udp ? from_udp(dp, w->pkt, w->len, &w->from)
				 : from_tun(dp, w->pkt, w->len);
		if (rc == NEEDS_WAIT && now_ms < w->deadline_ms)
			continue;
		w->used = false;
		dp->wait_now--;
		if (rc == NEEDS_WAIT)
			dp->drops[XLATE_DROP_WAIT_TIMEOUT]++;
		else if (rc < 0)
			count_drop(dp, rc);
		else
			dp->counters[DP_C_WAIT_SENT]++;
	}
}

unsigned forward_waiting(const struct dp *dp)
{
	return dp->wait_now;
}
