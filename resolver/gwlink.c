/* A worker thread's gwctld connection without waits: requests out, replies in, RANGES, hold-off. */
#include "gwlink.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ctl_proto.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *const gwlink_counter_names[GWLINK_COUNTER_COUNT] = {
	"gwlink.connects", "gwlink.requests",  "gwlink.timeouts",	   "gwlink.failures",
	"gwlink.held_off", "gwlink.recovered", "gwlink.store_unavailable",
};

void gwlink_counters_add(const struct gwlink *link, uint64_t totals[GWLINK_COUNTER_COUNT])
{
	const struct gwlink_counters *c = &link->counters;
	const uint64_t *fields[GWLINK_COUNTER_COUNT] = {
		&c->connects, &c->requests,  &c->timeouts,	    &c->failures,
		&c->held_off, &c->recovered, &c->store_unavailable,
	};

	for (size_t i = 0; i < GWLINK_COUNTER_COUNT; i++)
		totals[i] += __atomic_load_n(fields[i], __ATOMIC_RELAXED);
}

void gwlink_init(struct gwlink *link, const struct resolver_settings *settings)
{
	memset(link, 0, sizeof(*link));
	link->settings = settings;
}

/* A broken connection is closed; the requests sent on it are lost (link->connection says so). */
static void drop(struct gwlink *link)
{
	ipr_ctl_client_free(link->client);
	link->client = NULL;
	link->ranges_id = 0;
	link->connection++;
	GWLINK_COUNT(link, failures);
}

void gwlink_timed_out(struct gwlink *link)
{
	GWLINK_COUNT(link, timeouts);
	link->holdoff_until_ms = now_ms() + link->settings->holdoff_ms;
}

/*
 * Checks the open connection: a hung-up one is dropped (a restarted daemon is tried at once),
 * and a waiting message ends a hold-off. -EAGAIN while held off, else 0.
 */
static int check_connection(struct gwlink *link)
{
	struct pollfd pfd = { .fd = ipr_ctl_client_fd(link->client), .events = POLLIN | POLLRDHUP };
	int ready = poll(&pfd, 1, 0);

	if (ready > 0 && (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR))) {
		drop(link);
		link->holdoff_until_ms = 0;
		return 0;
	}
	if (!link->holdoff_until_ms)
		return 0;
	if (ready > 0 && (pfd.revents & POLLIN)) {
		/* a late reply: the daemon was only slow; gwlink_receive reads it */
		GWLINK_COUNT(link, recovered);
	} else if (now_ms() < link->holdoff_until_ms) {
		GWLINK_COUNT(link, held_off);
		return -EAGAIN;
	}
	link->holdoff_until_ms = 0;
	return 0;
}

void gwlink_deinit(struct gwlink *link)
{
	ipr_ctl_client_free(link->client);
	link->client = NULL;
}

static void read_layout(struct gwlink *link, const struct ipr_ctl_reply *reply)
{
	struct gwlink_layout layout = { .known = true };
	struct ipr_ctl_iter it;
	struct ipr_ctl_attr attr;

	ipr_ctl_iter_init(&it, reply->attrs, reply->attrs_len);
	while (ipr_ctl_iter_next(&it, &attr) > 0) {
		struct ipr_prefix p = { 0 };
		int family;
		uint8_t addr[16];

		/* fields_parse already checked both kinds, so these reads succeed */
		if (attr.type == IPR_CTL_A_RANGE &&
		    ipr_ctl_read_range(&attr, &p.family, p.addr, &p.len) == 0) {
			int i = p.family == AF_INET ? 0 : 1;

			layout.has_range[i] = true;
			layout.range[i] = p;
			if (layout.site.range_count < 2)
				layout.site.ranges[layout.site.range_count++] = p;
		} else if (attr.type == IPR_CTL_A_GATEWAY &&
			   ipr_ctl_read_ip(&attr, &family, addr) == 0) {
			layout.families |= family == AF_INET ? SYNTH_FAMILY_V4 : SYNTH_FAMILY_V6;
			if (layout.site.own_count < IPR_SITE_OWN_MAX) {
				struct ipr_context *own = &layout.site.own[layout.site.own_count++];

				own->kind = family == AF_INET ? IPR_CONTEXT_IPV4 : IPR_CONTEXT_IPV6;
				memcpy(own->ipv6, addr, 16);
			}
		}
	}
	link->layout = layout;
}

int gwlink_open(struct gwlink *link)
{
	struct ipr_ctl_builder b;
	uint8_t request[IPR_CTL_HEADER_LEN];
	uint32_t id;
	size_t len;
	int rc;

	if (link->client) {
		rc = check_connection(link);
		if (rc < 0)
			return rc;
		if (link->client)
			return link->ranges_id ? -EINPROGRESS : 0;
	}
	rc = ipr_ctl_client_connect(link->settings->socket, &link->client);
	if (rc < 0) {
		link->client = NULL;
		GWLINK_COUNT(link, failures);
		return rc;
	}
	GWLINK_COUNT(link, connects);
	id = ipr_ctl_client_next_id(link->client);
	ipr_ctl_build(&b, request, sizeof(request), IPR_CTL_RANGES, 0, id);
	if (ipr_ctl_finish(&b, &len) < 0)
		return -EINVAL; /* cannot happen: a bare header always fits */
	rc = ipr_ctl_client_send(link->client, request, len);
	if (rc < 0) {
		drop(link);
		return -ECONNRESET;
	}
	GWLINK_COUNT(link, requests);
	link->ranges_id = id;
	return -EINPROGRESS;
}

unsigned gwlink_families(const struct gwlink *link)
{
	if (link->settings->families != SETTINGS_FAMILY_AUTO)
		return link->settings->families;
	if (link->layout.known && link->layout.families)
		return link->layout.families;
	return SYNTH_FAMILY_V4 | SYNTH_FAMILY_V6;
}

bool gwlink_is_encoded(const struct gwlink *link, const struct synth_ip *ip)
{
	for (int i = 0; i < 2; i++)
		if (link->layout.has_range[i] &&
		    ipr_prefix_contains(&link->layout.range[i], ip->family, ip->addr))
			return true;
	return false;
}

static int build_get_ea(struct gwlink *link, const struct gwlink_ea *ea, uint32_t id, uint8_t *buf,
			size_t cap, size_t *len)
{
	struct ipr_ctl_builder b;

	ipr_ctl_build(&b, buf, cap, IPR_CTL_GET_EA, 0, id);
	ipr_ctl_put_ip(&b, IPR_CTL_A_CONTEXT, ea->context.family, ea->context.addr);
	ipr_ctl_put_ref(&b, IPR_CTL_A_REF, &ea->ref);
	ipr_ctl_put_u8(&b, IPR_CTL_A_FAMILY, ea->family == AF_INET ? 4 : 6);
	if (ea->name && ea->name[0])
		ipr_ctl_put_text(&b, IPR_CTL_A_NAME, ea->name);
	if (ea->client.family)
		ipr_ctl_put_ip(&b, IPR_CTL_A_CLIENT, ea->client.family, ea->client.addr);
	ipr_ctl_put_text(&b, IPR_CTL_A_SOURCE, "resolver");
	return ipr_ctl_finish(&b, len);
}

bool gwlink_take_ea(struct gwlink_ea *ea, const struct ipr_ctl_reply *reply)
{
	const struct ipr_ctl_fields *f = &reply->fields;

	if (reply->hdr.kind != (IPR_CTL_GET_EA | IPR_CTL_REPLY))
		return false;
	ea->status = reply->hdr.status;
	if (ea->status != IPR_CTL_OK)
		return true;
	if (!ipr_ctl_has(f, IPR_CTL_A_ENCODED) || f->encoded_family != ea->family)
		return false;
	ea->encoded.family = f->encoded_family;
	memcpy(ea->encoded.addr, f->encoded, 16);
	ea->ttl = ipr_ctl_has(f, IPR_CTL_A_TTL) ? f->ttl : UINT32_MAX;
	return true;
}

/* A request that could not be sent: a full socket leaves the connection as it is. */
static int send_failed(struct gwlink *link, int rc)
{
	if (rc == -EAGAIN)
		return rc;
	drop(link);
	return -ECONNRESET;
}

int gwlink_send_get_eas(struct gwlink *link, struct gwlink_ea *eas, size_t n)
{
	if (!link->client || link->ranges_id)
		return -ENOTCONN;
	for (size_t i = 0; i < n; i++) {
		uint8_t request[512];
		size_t len;
		int rc;

		eas[i].id = ipr_ctl_client_next_id(link->client);
		eas[i].status = 0xff; /* no reply yet */
		rc = build_get_ea(link, &eas[i], eas[i].id, request, sizeof(request), &len);
		if (rc < 0)
			return rc;
		rc = ipr_ctl_client_send(link->client, request, len);
		if (rc < 0)
			return send_failed(link, rc);
		GWLINK_COUNT(link, requests);
	}
	return 0;
}

int gwlink_send_lookup_ea(struct gwlink *link, const struct synth_ip *encoded, uint32_t *id)
{
	struct ipr_ctl_builder b;
	uint8_t request[64];
	size_t len;
	int rc;

	if (!link->client || link->ranges_id)
		return -ENOTCONN;
	*id = ipr_ctl_client_next_id(link->client);
	ipr_ctl_build(&b, request, sizeof(request), IPR_CTL_LOOKUP_EA, 0, *id);
	ipr_ctl_put_ip(&b, IPR_CTL_A_ENCODED, encoded->family, encoded->addr);
	rc = ipr_ctl_finish(&b, &len);
	if (rc < 0)
		return rc;
	rc = ipr_ctl_client_send(link->client, request, len);
	if (rc < 0)
		return send_failed(link, rc);
	GWLINK_COUNT(link, requests);
	return 0;
}

int gwlink_take_name(const struct ipr_ctl_reply *reply, char name[IPR_NAME_MAX + 1], uint32_t *ttl)
{
	if (reply->hdr.kind != (IPR_CTL_LOOKUP_EA | IPR_CTL_REPLY))
		return -EPROTO;
	if (reply->hdr.status == IPR_CTL_E_NOT_FOUND)
		return -ENOENT;
	if (reply->hdr.status == IPR_CTL_E_STORE)
		return -EIO;
	if (reply->hdr.status != IPR_CTL_OK)
		return -EPROTO;
	strcpy(name, ipr_ctl_has(&reply->fields, IPR_CTL_A_NAME) ? reply->fields.name : "");
	*ttl = ipr_ctl_has(&reply->fields, IPR_CTL_A_TTL) ? reply->fields.ttl : UINT32_MAX;
	return 0;
}

int gwlink_receive(struct gwlink *link, struct ipr_ctl_reply *reply)
{
	if (!link->client)
		return GWLINK_NOTHING;
	for (;;) {
		int rc = ipr_ctl_client_recv(link->client, link->buf, sizeof(link->buf), 0);

		if (rc == -ETIMEDOUT)
			return GWLINK_NOTHING;
		if (rc == -EMSGSIZE)
			continue; /* nothing we asked for is that long */
		if (rc < 0 || ipr_ctl_reply_decode(link->buf, (size_t)rc, reply) < 0 ||
		    !(reply->hdr.kind & IPR_CTL_REPLY)) {
			drop(link);
			return rc < 0 ? -ECONNRESET : -EBADMSG;
		}
		if (link->holdoff_until_ms) {
			link->holdoff_until_ms = 0;
			GWLINK_COUNT(link, recovered);
		}
		if (link->ranges_id && reply->hdr.id == link->ranges_id) {
			if (reply->hdr.status != IPR_CTL_OK) {
				drop(link); /* a daemon too old for RANGES */
				return -EBADMSG;
			}
			link->ranges_id = 0;
			read_layout(link, reply);
			return GWLINK_RANGES;
		}
		if (reply->hdr.kind == (IPR_CTL_REPORT_COUNTERS | IPR_CTL_REPLY))
			continue;
		return GWLINK_REPLY;
	}
}

void gwlink_report(struct gwlink *link, const char *component, const char *const *names,
		   const uint64_t *values, size_t n)
{
	struct ipr_ctl_builder b;
	uint8_t msg[1024];
	size_t len;

	/* a new connection is used once RANGES is in, like any request */
	if (gwlink_open(link) < 0)
		return;
	ipr_ctl_build(&b, msg, sizeof(msg), IPR_CTL_REPORT_COUNTERS, 0,
		      ipr_ctl_client_next_id(link->client));
	ipr_ctl_put_text(&b, IPR_CTL_A_TEXT, component);
	for (size_t i = 0; i < n; i++)
		ipr_ctl_put_counter(&b, names[i], values[i]);
	if (ipr_ctl_finish(&b, &len) == 0 && ipr_ctl_client_send(link->client, msg, len) == 0)
		GWLINK_COUNT(link, requests);
}
