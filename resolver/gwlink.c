/* A worker thread's gwctld connection: pipelined GET_EA with one deadline, RANGES, hold-off. */
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
	"gwlink.connects", "gwlink.requests", "gwlink.timeouts",
	"gwlink.failures", "gwlink.held_off", "gwlink.recovered",
};

void gwlink_counters_add(const struct gwlink *link, uint64_t totals[GWLINK_COUNTER_COUNT])
{
	const struct gwlink_counters *c = &link->counters;
	const uint64_t *fields[GWLINK_COUNTER_COUNT] = {
		&c->connects, &c->requests, &c->timeouts, &c->failures, &c->held_off, &c->recovered
	};

	for (size_t i = 0; i < GWLINK_COUNTER_COUNT; i++)
		totals[i] += __atomic_load_n(fields[i], __ATOMIC_RELAXED);
}

void gwlink_init(struct gwlink *link, const struct resolver_settings *settings)
{
	memset(link, 0, sizeof(*link));
	link->settings = settings;
}

/* A failed exchange: a timeout starts a hold-off on the same connection; anything else closes it.
 */
static void drop(struct gwlink *link, int rc)
{
	if (rc == -ETIMEDOUT) {
		GWLINK_COUNT(link, timeouts);
		link->holdoff_until_ms = now_ms() + link->settings->holdoff_ms;
		return;
	}
	ipr_ctl_client_free(link->client);
	link->client = NULL;
	GWLINK_COUNT(link, failures);
}

/* Reads away the late replies waiting on the socket; they answer requests given up on. */
static void drain_late_replies(struct gwlink *link)
{
	int fd = ipr_ctl_client_fd(link->client);

	for (int i = 0; i < 256; i++)
		if (recv(fd, link->buf, sizeof(link->buf), MSG_DONTWAIT) <= 0)
			return;
}

/*
 * 0 when the open connection can be used, -EAGAIN while held off, or 1 when there is no usable
 * connection (none, or gwctld hung up) and a new one is needed.
 */
static int check_connection(struct gwlink *link)
{
	struct pollfd pfd = { .fd = ipr_ctl_client_fd(link->client), .events = POLLIN | POLLRDHUP };
	int ready = poll(&pfd, 1, 0);

	/* a daemon that went away left a hung-up socket: reconnect now, not after a failure */
	if (ready > 0 && (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR))) {
		drop(link, -ECONNRESET);
		link->holdoff_until_ms = 0; /* a restarted daemon is tried at once */
		return 1;
	}
	if (!link->holdoff_until_ms)
		return 0;
	if (ready > 0 && (pfd.revents & POLLIN)) {
		GWLINK_COUNT(link, recovered);
	} else if (now_ms() < link->holdoff_until_ms) {
		GWLINK_COUNT(link, held_off);
		return -EAGAIN;
	}
	link->holdoff_until_ms = 0;
	if (link->ranges_pending) {
		/* a connection never set up: a new one asks RANGES again, of a daemon now awake */
		ipr_ctl_client_free(link->client);
		link->client = NULL;
		return 1;
	}
	drain_late_replies(link);
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

int gwlink_ready(struct gwlink *link)
{
	struct ipr_ctl_builder b;
	struct ipr_ctl_reply reply;
	uint8_t request[IPR_CTL_HEADER_LEN];
	size_t len;
	int rc;

	if (link->client) {
		rc = check_connection(link);
		if (rc <= 0)
			return rc;
	}
	if (link->holdoff_until_ms && now_ms() < link->holdoff_until_ms) {
		GWLINK_COUNT(link, held_off);
		return -EAGAIN;
	}
	link->holdoff_until_ms = 0;
	rc = ipr_ctl_client_connect(link->settings->socket, &link->client);
	if (rc < 0) {
		GWLINK_COUNT(link, failures);
		return rc;
	}
	GWLINK_COUNT(link, connects);

	ipr_ctl_build(&b, request, sizeof(request), IPR_CTL_RANGES, 0,
		      ipr_ctl_client_next_id(link->client));
	if (ipr_ctl_finish(&b, &len) < 0)
		return -EINVAL; /* cannot happen: a bare header always fits */
	GWLINK_COUNT(link, requests);
	rc = ipr_ctl_client_call(link->client, request, len, link->buf, sizeof(link->buf),
				 (int)link->settings->timeout_ms, &reply);
	if (rc == 0 && reply.hdr.status != IPR_CTL_OK)
		rc = -EPROTO; /* a daemon too old for RANGES */
	if (rc < 0) {
		drop(link, rc);
		/* kept through a hold-off only so that the late reply can end it (check_connection)
		 */
		link->ranges_pending = link->client != NULL;
		return rc;
	}
	link->ranges_pending = false;
	read_layout(link, &reply);
	return 0;
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

/* Stores a GET_EA reply in its request; false when it does not fit the request. */
static bool take_ea_reply(struct gwlink_ea *ea, const struct ipr_ctl_reply *reply)
{
	const struct ipr_ctl_fields *f = &reply->fields;

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

int gwlink_get_eas(struct gwlink *link, struct gwlink_ea *eas, size_t n)
{
	size_t answered = 0;
	int64_t deadline;
	int rc = gwlink_ready(link);

	if (rc < 0)
		return rc;
	deadline = now_ms() + link->settings->timeout_ms;
	for (size_t i = 0; i < n; i++) {
		uint8_t request[512];
		size_t len;

		eas[i].id = ipr_ctl_client_next_id(link->client);
		eas[i].status = 0xff; /* no reply yet */
		rc = build_get_ea(link, &eas[i], eas[i].id, request, sizeof(request), &len);
		if (rc == 0)
			rc = ipr_ctl_client_send(link->client, request, len);
		if (rc < 0)
			goto out;
		GWLINK_COUNT(link, requests);
	}
	/* Replies to requests of earlier calls that gave up waiting are skipped. */
	while (answered < n) {
		struct ipr_ctl_reply reply;
		int64_t left = deadline - now_ms();
		size_t slot = 0;

		rc = ipr_ctl_client_recv(link->client, link->buf, sizeof(link->buf),
					 left > 0 ? (int)left : 0);
		if (rc < 0)
			goto out;
		if (ipr_ctl_reply_decode(link->buf, (size_t)rc, &reply) < 0) {
			rc = -EBADMSG;
			goto out;
		}
		while (slot < n && eas[slot].id != reply.hdr.id)
			slot++;
		if (reply.hdr.kind != (IPR_CTL_GET_EA | IPR_CTL_REPLY) || slot == n)
			continue;
		if (eas[slot].status != 0xff || !take_ea_reply(&eas[slot], &reply)) {
			rc = -EBADMSG;
			goto out;
		}
		answered++;
	}
	rc = 0;
out:
	if (rc < 0)
		drop(link, rc == -EPIPE ? -ECONNRESET : rc);
	return rc;
}

int gwlink_lookup_ea(struct gwlink *link, const struct synth_ip *encoded,
		     char name[IPR_NAME_MAX + 1], uint32_t *ttl)
{
	struct ipr_ctl_builder b;
	struct ipr_ctl_reply reply;
	uint8_t request[64];
	size_t len;
	int rc = gwlink_ready(link);

	if (rc < 0)
		return rc;
	ipr_ctl_build(&b, request, sizeof(request), IPR_CTL_LOOKUP_EA, 0,
		      ipr_ctl_client_next_id(link->client));
	ipr_ctl_put_ip(&b, IPR_CTL_A_ENCODED, encoded->family, encoded->addr);
	rc = ipr_ctl_finish(&b, &len);
	if (rc < 0)
		return rc;
	GWLINK_COUNT(link, requests);
	rc = ipr_ctl_client_call(link->client, request, len, link->buf, sizeof(link->buf),
				 (int)link->settings->timeout_ms, &reply);
	if (rc < 0) {
		drop(link, rc);
		return rc;
	}
	if (reply.hdr.status == IPR_CTL_E_NOT_FOUND)
		return -ENOENT;
	if (reply.hdr.status != IPR_CTL_OK)
		return -EPROTO;
	strcpy(name, ipr_ctl_has(&reply.fields, IPR_CTL_A_NAME) ? reply.fields.name : "");
	*ttl = ipr_ctl_has(&reply.fields, IPR_CTL_A_TTL) ? reply.fields.ttl : UINT32_MAX;
	return 0;
}

void gwlink_report(struct gwlink *link, const char *component, const char *const *names,
		   const uint64_t *values, size_t n)
{
	struct ipr_ctl_builder b;
	uint8_t msg[1024];
	size_t len;

	/* connecting costs one RANGES exchange, once per connection: not per report */
	if (gwlink_ready(link) < 0)
		return;
	ipr_ctl_build(&b, msg, sizeof(msg), IPR_CTL_REPORT_COUNTERS, 0,
		      ipr_ctl_client_next_id(link->client));
	ipr_ctl_put_text(&b, IPR_CTL_A_TEXT, component);
	for (size_t i = 0; i < n; i++)
		ipr_ctl_put_counter(&b, names[i], values[i]);
	if (ipr_ctl_finish(&b, &len) == 0 && ipr_ctl_client_send(link->client, msg, len) == 0)
		GWLINK_COUNT(link, requests);
}
