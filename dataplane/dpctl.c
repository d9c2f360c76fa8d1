/* Talking to gwctld without ever blocking the packet loop: every wait is bounded or absent. */
#include "dpctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "ctl_client.h"
#include "layout.h"
#include "log.h"
#include "mapping.h"
#include "workers.h"

#define PENDING_MAX	   64
#define PENDING_MS	   2000 /* a question unanswered this long may be asked again */
#define RECONNECT_MS	   1000
#define REPORT_MS	   2000
#define USE_PER_MESSAGE	   400
#define USE_MESSAGES_ROUND 16
#define MESSAGES_PER_WAKE  256
#define KEY_LEN		   35 /* kind, ver, ctx_ver, 16 context or address bytes, 16 reference */

struct pending {
	bool used;
	uint8_t key[KEY_LEN];
	uint32_t id;
	int64_t deadline_ms;
};

struct dpctl {
	struct ipr_ctl_client *client; /* NULL: not connected */
	int epoll_fd;
	uint64_t tag;
	uint32_t sub_id;
	uint32_t ranges_id; /* the RANGES question out, 0: none */
	bool synced;
	int64_t next_connect_ms;
	int64_t next_report_ms;
	struct pending pending[PENDING_MAX];
	uint8_t buf[IPR_CTL_MSG_MAX];
	uint8_t out[IPR_CTL_MSG_MAX];
};

int dpctl_new(struct dp *dp, int epoll_fd, uint64_t tag, struct dpctl **out)
{
	struct dpctl *ctl = calloc(1, sizeof(*ctl));

	if (!ctl)
		return -ENOMEM;
	ctl->epoll_fd = epoll_fd;
	ctl->tag = tag;
	*out = ctl;
	return 0;
}

void dpctl_free(struct dpctl *ctl)
{
	if (!ctl)
		return;
	ipr_ctl_client_free(ctl->client);
	free(ctl);
}

bool dpctl_synced(const struct dp *dp)
{
	return dp->ctl->synced && dp->layout.known;
}

static void disconnect(struct dp *dp, const char *why)
{
	struct dpctl *ctl = dp->ctl;

	if (!ctl->client)
		return;
	log_warn("gwctld connection lost (%s); forwarding goes on with the mappings held", why);
	ipr_ctl_client_free(ctl->client); /* closing the fd takes it out of epoll too */
	ctl->client = NULL;
	ctl->synced = false;
	ctl->ranges_id = 0;
	ctl->next_connect_ms = ipr_clock_ms() + RECONNECT_MS;
	memset(ctl->pending, 0, sizeof(ctl->pending));
}

static void send_msg(struct dp *dp, struct ipr_ctl_builder *b)
{
	size_t len;
	int rc;

	if (ipr_ctl_finish(b, &len) < 0) {
		dp->counters[DP_C_CTL_LOST]++;
		return;
	}
	rc = ipr_ctl_client_send(dp->ctl->client, b->buf, len);
	if (rc == -EAGAIN)
		dp->counters[DP_C_CTL_LOST]++;
	else if (rc < 0)
		disconnect(dp, strerror(-rc));
}

void dpctl_refresh_layout(struct dp *dp)
{
	struct dpctl *ctl = dp->ctl;
	struct ipr_ctl_builder b;

	if (!ctl->client)
		return;
	ctl->ranges_id = ipr_ctl_client_next_id(ctl->client);
	ipr_ctl_build(&b, ctl->out, sizeof(ctl->out), IPR_CTL_RANGES, 0, ctl->ranges_id);
	send_msg(dp, &b);
}

/* RANGES answered: a new layout is adopted, and handed to the I/O side for routes and MTU. */
static void on_ranges(struct dp *dp, const struct ipr_ctl_reply *msg)
{
	struct dp_layout next, old = dp->layout;
	int rc;

	dp->ctl->ranges_id = 0;
	if (msg->hdr.status != IPR_CTL_OK ||
	    dp_layout_decode(msg->attrs, msg->attrs_len, &next) < 0) {
		dp->counters[DP_C_LAYOUT_BAD]++;
		log_error("gwctld's ranges cannot be used (%s); the layout held stays",
			  msg->hdr.status ? ipr_ctl_status_text(msg->hdr.status) : "malformed");
		return;
	}
	if (dp_layout_equal(&old, &next))
		return;
	dp_layout_adopt(dp, &next);
	workers_layout(dp->workers, &next);
	if (old.known) {
		dp->counters[DP_C_LAYOUT_CHANGES]++;
		log_info("gwctld's layout changed: following it");
	}
	dp->ctl->next_report_ms = 0; /* the counters in the new layout's terms (TUN MTU) soon */
	rc = dp->layout_apply ? dp->layout_apply(dp, &old) : 0;
	if (rc < 0) {
		dp->counters[DP_C_LAYOUT_FAILED]++;
		log_error("the TUN device cannot follow gwctld's layout: %s; restart the dataplane "
			  "to apply it",
			  strerror(-rc));
	}
}

static void try_connect(struct dp *dp, int64_t now)
{
	struct dpctl *ctl = dp->ctl;
	struct ipr_ctl_builder b;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = ctl->tag };
	int rc;

	ctl->next_connect_ms = now + RECONNECT_MS;
	rc = ipr_ctl_client_connect(dp->cfg.gwctl_socket, &ctl->client);
	if (rc < 0) {
		log_debug("gwctld at %s: %s", dp->cfg.gwctl_socket, strerror(-rc));
		return;
	}
	if (epoll_ctl(ctl->epoll_fd, EPOLL_CTL_ADD, ipr_ctl_client_fd(ctl->client), &ev) < 0) {
		ipr_ctl_client_free(ctl->client);
		ctl->client = NULL;
		return;
	}
	dp->counters[DP_C_CTL_CONNECTS]++;
	/* the layout first: a reload may have changed it while the link was down */
	dpctl_refresh_layout(dp);
	if (!ctl->client)
		return;
	ctl->sub_id = ipr_ctl_client_next_id(ctl->client);
	ipr_ctl_build(&b, ctl->out, sizeof(ctl->out), IPR_CTL_SUBSCRIBE, 0, ctl->sub_id);
	maptab_resync_begin(dp->tab);
	workers_resync(dp->workers, true);
	send_msg(dp, &b);
	if (ctl->client)
		log_info("connected to gwctld at %s; receiving the layout and the mappings",
			 dp->cfg.gwctl_socket);
}

/*
 * Applies one mapping from an event or a reply; true when the tables gained it. The workers'
 * copies get the same change whatever its outcome here, so that they stay equal.
 */
static bool apply(struct dp *dp, const struct ipr_ctl_fields *f, bool add)
{
	struct ipr_mapping m;
	int rc;

	if (ipr_mapping_from_fields(f, &m) < 0)
		return false;
	workers_mapping(dp->workers, add, &m);
	if (!add) {
		/* a removal of something never held (a name-only gateway, a full table) is fine */
		if (maptab_remove(dp->tab, &m) < 0)
			return false;
		return false;
	}
	rc = maptab_add(dp->tab, &m);
	if (rc == -ENOSPC)
		dp->counters[DP_C_TABLE_FULL]++;
	return rc == 0;
}

static void forget_pending(struct dpctl *ctl, uint32_t id)
{
	for (int i = 0; i < PENDING_MAX; i++)
		if (ctl->pending[i].used && ctl->pending[i].id == id)
			ctl->pending[i].used = false;
}

/* One message from gwctld; returns true when mappings were added. */
static bool handle(struct dp *dp, const struct ipr_ctl_reply *msg)
{
	struct dpctl *ctl = dp->ctl;
	uint8_t kind = msg->hdr.kind;

	if (msg->hdr.id == ctl->sub_id &&
	    (kind == IPR_CTL_EV_ADDED || kind == IPR_CTL_EV_REMOVED)) {
		dp->counters[DP_C_EVENTS]++;
		return apply(dp, &msg->fields, kind == IPR_CTL_EV_ADDED);
	}
	if (msg->hdr.id == ctl->sub_id && kind == IPR_CTL_EV_LAYOUT) {
		dpctl_refresh_layout(dp);
		return false;
	}
	if (kind == (IPR_CTL_RANGES | IPR_CTL_REPLY) && ctl->ranges_id &&
	    msg->hdr.id == ctl->ranges_id) {
		on_ranges(dp, msg);
		return false;
	}
	if (msg->hdr.id == ctl->sub_id && kind == IPR_CTL_EV_SNAPSHOT_DONE) {
		uint32_t gone = maptab_resync_end(dp->tab);
		workers_resync(dp->workers, false);
		ctl->synced = true;
		log_info("mappings received: %u remote, %u local (%u gone while away)",
			 maptab_remote_count(dp->tab), maptab_local_count(dp->tab), gone);
		return false;
	}
	if (kind == (IPR_CTL_SUBSCRIBE | IPR_CTL_REPLY) && msg->hdr.status != IPR_CTL_OK) {
		log_error("gwctld refused the subscription: %s",
			  ipr_ctl_status_text(msg->hdr.status));
		return false;
	}
	if (kind == (IPR_CTL_GET_REF | IPR_CTL_REPLY) || kind == (IPR_CTL_GET_EA | IPR_CTL_REPLY)) {
		if (msg->hdr.status != IPR_CTL_OK) {
			/* the question stays pending until it expires, so it is not asked per
			 * packet */
			dp->counters[DP_C_CTL_REFUSED]++;
			return false;
		}
		forget_pending(ctl, msg->hdr.id);
		return apply(dp, &msg->fields, true);
	}
	return false;
}

bool dpctl_on_readable(struct dp *dp)
{
	struct dpctl *ctl = dp->ctl;
	bool added = false;

	/* a bounded share per wake-up: a large snapshot must not hold packets up (epoll comes back)
	 */
	for (int i = 0; i < MESSAGES_PER_WAKE && ctl->client; i++) {
		struct ipr_ctl_reply msg;
		int n = ipr_ctl_client_recv(ctl->client, ctl->buf, sizeof(ctl->buf), 0);

		if (n == -ETIMEDOUT)
			break;
		if (n == -EMSGSIZE)
			continue;
		if (n < 0) {
			disconnect(dp, strerror(-n));
			break;
		}
		if (ipr_ctl_reply_decode(ctl->buf, (size_t)n, &msg) < 0)
			continue;
		added |= handle(dp, &msg);
	}
	return added;
}

/* Registers a question unless it is out already; false when it need not (or cannot) be sent. */
static bool pending_add(struct dpctl *ctl, const uint8_t *key, uint32_t *id)
{
	int64_t now = ipr_clock_ms();
	int free_slot = -1;

	for (int i = 0; i < PENDING_MAX; i++) {
		struct pending *p = &ctl->pending[i];
		if (p->used && p->deadline_ms <= now)
			p->used = false;
		if (p->used && memcmp(p->key, key, KEY_LEN) == 0)
			return false;
		if (!p->used && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return false;
	*id = ipr_ctl_client_next_id(ctl->client);
	ctl->pending[free_slot] =
		(struct pending){ .used = true, .id = *id, .deadline_ms = now + PENDING_MS };
	memcpy(ctl->pending[free_slot].key, key, KEY_LEN);
	return true;
}

static int family_of(uint8_t ver)
{
	return ver == 4 ? AF_INET : AF_INET6;
}

void dpctl_request_ref(struct dp *dp, uint8_t ver, const uint8_t *addr)
{
	struct dpctl *ctl = dp->ctl;
	uint8_t key[KEY_LEN] = { IPR_CTL_GET_REF, ver };
	struct ipr_ctl_builder b;
	uint32_t id;

	if (!ctl->client)
		return;
	memcpy(key + 3, addr, ver == 4 ? 4 : 16);
	if (!pending_add(ctl, key, &id))
		return;
	ipr_ctl_build(&b, ctl->out, sizeof(ctl->out), IPR_CTL_GET_REF, 0, id);
	ipr_ctl_put_ip(&b, IPR_CTL_A_LOCAL, family_of(ver), addr);
	ipr_ctl_put_text(&b, IPR_CTL_A_SOURCE, "dataplane");
	dp->counters[DP_C_CTL_REQUESTS]++;
	send_msg(dp, &b);
}

void dpctl_request_ea(struct dp *dp, uint8_t ver, uint8_t ctx_ver, const uint8_t *ctx,
		      const struct ipr_ref *ref)
{
	struct dpctl *ctl = dp->ctl;
	uint8_t key[KEY_LEN] = { IPR_CTL_GET_EA, ver, ctx_ver };
	struct ipr_ctl_builder b;
	uint32_t id;

	if (!ctl->client)
		return;
	memcpy(key + 3, ctx, ctx_ver == 4 ? 4 : 16);
	ipr_ref_to_bytes(ref, key + 19);
	if (!pending_add(ctl, key, &id))
		return;
	ipr_ctl_build(&b, ctl->out, sizeof(ctl->out), IPR_CTL_GET_EA, 0, id);
	ipr_ctl_put_ip(&b, IPR_CTL_A_CONTEXT, family_of(ctx_ver), ctx);
	ipr_ctl_put_ref(&b, IPR_CTL_A_REF, ref);
	ipr_ctl_put_u8(&b, IPR_CTL_A_FAMILY, ver);
	ipr_ctl_put_text(&b, IPR_CTL_A_SOURCE, "dataplane");
	dp->counters[DP_C_CTL_REQUESTS]++;
	send_msg(dp, &b);
}

/* Fills a REPORT_USE message; stops (false) when it is full. */
static bool use_remote(void *arg, const struct maptab_remote *r)
{
	struct ipr_ctl_builder *b = arg;
	size_t mark = ipr_ctl_nest_begin(b, IPR_CTL_A_MAPPING);

	ipr_ctl_put_ip(b, IPR_CTL_A_ENCODED, family_of(r->ver), r->encoded);
	if (r->replied)
		ipr_ctl_put(b, IPR_CTL_A_REPLIED, NULL, 0);
	ipr_ctl_nest_end(b, mark);
	return true;
}

static bool use_local(void *arg, const struct maptab_local *l)
{
	struct ipr_ctl_builder *b = arg;
	size_t mark = ipr_ctl_nest_begin(b, IPR_CTL_A_MAPPING);

	ipr_ctl_put_ref(b, IPR_CTL_A_REF, &l->ref);
	ipr_ctl_nest_end(b, mark);
	return true;
}

static void report_use(struct dp *dp)
{
	struct dpctl *ctl = dp->ctl;

	for (int round = 0; round < USE_MESSAGES_ROUND && ctl->client; round++) {
		struct ipr_ctl_builder b;
		struct maptab_use_visitor v = { use_remote, use_local, &b };
		unsigned n;

		ipr_ctl_build(&b, ctl->out, sizeof(ctl->out), IPR_CTL_REPORT_USE, 0,
			      ipr_ctl_client_next_id(ctl->client));
		n = maptab_collect_used(dp->tab, &v, USE_PER_MESSAGE);
		if (n == 0)
			break;
		dp->counters[DP_C_USE_REPORTED] += n;
		send_msg(dp, &b);
		if (n < USE_PER_MESSAGE)
			break;
	}
}

/*
 * What the kernel gave each worker to read and what it sent, as worker0.tun.rx...: how the
 * traffic spreads. The first DPCTL_WORKERS_REPORTED workers only, so that the report keeps
 * within the IPR_CTL_REPORT_COUNTERS_MAX counters gwctld takes from a component.
 */
static void report_workers(struct dp *dp, struct ipr_ctl_builder *b)
{
	static const enum dp_counter shown[DPCTL_WORKER_COUNTERS] = { DP_C_TUN_RX, DP_C_UDP_RX,
								      DP_C_UDP_TX };
	char name[64];

	for (unsigned i = 0; i < workers_count(dp->workers) && i < DPCTL_WORKERS_REPORTED; i++) {
		for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
			snprintf(name, sizeof(name), "worker%u.%s", i, dp_counter_name(shown[k]));
			ipr_ctl_put_counter(b, name, workers_counter(dp->workers, i, shown[k]));
		}
	}
}

static void report_counters(struct dp *dp)
{
	struct dpctl *ctl = dp->ctl;
	struct ipr_ctl_builder b;
	struct dp_totals t;
	char name[64];

	dp_totals_of(dp, &t);
	ipr_ctl_build(&b, ctl->out, sizeof(ctl->out), IPR_CTL_REPORT_COUNTERS, 0,
		      ipr_ctl_client_next_id(ctl->client));
	ipr_ctl_put_text(&b, IPR_CTL_A_TEXT, "dataplane");
	for (int c = 0; c < DP_C_COUNT; c++)
		ipr_ctl_put_counter(&b, dp_counter_name(c), t.counters[c]);
	ipr_ctl_put_counter(&b, "mappings.remote", maptab_remote_count(dp->tab));
	ipr_ctl_put_counter(&b, "mappings.local", maptab_local_count(dp->tab));
	ipr_ctl_put_counter(&b, "wait.now", t.wait_now);
	ipr_ctl_put_counter(&b, "icmp_frag.held", t.frag_held);
	ipr_ctl_put_counter(&b, "icmp_frag.released", t.frag_released);
	ipr_ctl_put_counter(&b, "icmp_frag.expired", t.frag_expired);
	ipr_ctl_put_counter(&b, "icmp_frag.evicted", t.frag_evicted);
	ipr_ctl_put_counter(&b, "tun.mtu", dp->tun_mtu);
	ipr_ctl_put_counter(&b, "tun.mtu_outer_ipv6", dp->tun_mtu_outer_ipv6);
	ipr_ctl_put_counter(&b, "tun.mtu_by_internet_key",
			    dp->tun_mtu_basis == DPCONF_MTU_INTERNET_KEY);
	ipr_ctl_put_counter(&b, "tun.mtu_by_gateway_addresses",
			    dp->tun_mtu_basis == DPCONF_MTU_GATEWAYS);
	for (int r = 1; r < XLATE_DROP_COUNT; r++) {
		snprintf(name, sizeof(name), "drop.%s", xlate_drop_name(r));
		ipr_ctl_put_counter(&b, name, t.drops[r]);
	}
	for (int c = 0; c < OFF_C_COUNT; c++)
		ipr_ctl_put_counter(&b, offload_counter_name(c), t.off[c]);
	for (int r = 1; r < GSO_DROP_COUNT; r++) {
		snprintf(name, sizeof(name), "drop.%s", gso_drop_name(r));
		ipr_ctl_put_counter(&b, name, t.gso_drops[r]);
	}
	ipr_ctl_put_counter(&b, "workers", dp->workers ? workers_count(dp->workers) : 1);
	report_workers(dp, &b);
	send_msg(dp, &b);
}

void dpctl_tick(struct dp *dp, int64_t now_ms)
{
	struct dpctl *ctl = dp->ctl;

	if (!ctl->client && now_ms >= ctl->next_connect_ms)
		try_connect(dp, now_ms);
	if (ctl->client && now_ms >= ctl->next_report_ms) {
		ctl->next_report_ms = now_ms + REPORT_MS;
		report_use(dp);
		if (ctl->client)
			report_counters(dp);
	}
}
