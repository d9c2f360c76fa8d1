/* One worker thread's connection to gwctld: bounded waits, reconnection, the gateway's ranges. */
#ifndef GWLINK_H
#define GWLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "context.h"
#include "ctl_client.h"
#include "prefix.h"
#include "ref.h"
#include "settings.h"
#include "synth.h"

/*
 * Nothing here knows Unbound, and nothing here waits: the module keeps one struct gwlink per
 * worker thread (so no locks), sends its requests, and hands each reply that gwlink_receive
 * reads to the query that waits for it (resolver/gwwait.c does that on the worker's event
 * base). A query gives up after settings->timeout_ms (its own timer) and calls
 * gwlink_timed_out: every new request then fails at once for holdoff_ms, so that questions do
 * not pile up behind a stuck daemon. The connection is kept: late replies carry the IDs of
 * requests given up on, which no later request reuses, so they are never taken for answers;
 * and the first of them to arrive ends the hold-off early, since a daemon that answers again
 * was only slow (a long fsync), not stuck.
 */

/* What gwctld told us on the last connection (RANGES); kept while it is away. */
struct gwlink_layout {
	bool known;
	bool has_range[2]; /* [0] IPv4, [1] IPv6 */
	struct ipr_prefix range[2];
	unsigned families; /* SYNTH_FAMILY_* of the gateway's own addresses; 0: none configured */
	struct ipr_site site; /* the ranges and own addresses, for core/context.h's checks */
};

/*
 * Written only by the link's own thread, read by whichever thread reports the module's counters
 * (gwlink_counters_add), hence relaxed atomics on both sides.
 */
struct gwlink_counters {
	uint64_t connects;
	uint64_t requests;
	uint64_t timeouts;
	uint64_t failures;  /* connect refused, connection lost, broken replies */
	uint64_t held_off;  /* calls refused at once during a hold-off */
	uint64_t recovered; /* hold-offs ended early by a late reply */
	/* questions failed because gwctld answered that its store failed (E_STORE) */
	uint64_t store_unavailable;
};

#define GWLINK_COUNT(link, field) __atomic_add_fetch(&(link)->counters.field, 1, __ATOMIC_RELAXED)

struct gwlink {
	const struct resolver_settings *settings;
	struct ipr_ctl_client *client;
	uint64_t connection; /* counts connections dropped: requests on an earlier one are lost */
	uint32_t ranges_id;  /* the connection's RANGES, not answered yet (0: answered) */
	int64_t holdoff_until_ms;
	struct gwlink_layout layout;
	struct gwlink_counters counters;
	uint8_t buf[IPR_CTL_MSG_MAX];
};

/* The counters' names as reported (resolver.gwlink.NAME), in the order gwlink_counters_add
 * fills values. */
#define GWLINK_COUNTER_COUNT 7
extern const char *const gwlink_counter_names[GWLINK_COUNTER_COUNT];

/* Adds link's counters to totals[0..GWLINK_COUNTER_COUNT), from any thread. */
void gwlink_counters_add(const struct gwlink *link, uint64_t totals[GWLINK_COUNTER_COUNT]);

void gwlink_init(struct gwlink *link, const struct resolver_settings *settings);
void gwlink_deinit(struct gwlink *link);

/*
 * Makes the link usable: connects when needed and sends RANGES on each new connection.
 * Returns 0 when requests can be sent, -EINPROGRESS while RANGES is awaited (its id is
 * link->ranges_id; gwlink_receive reads its reply), -EAGAIN during a hold-off, or the connect
 * error (-ENOENT, -ECONNREFUSED, -EACCES...). A connection that gwctld hung up is dropped
 * (link->connection changes) and replaced.
 */
IPR_MUST_CHECK int gwlink_open(struct gwlink *link);

/* The Internet families to resolve context names for: the settings', else gwctld's, else both. */
unsigned gwlink_families(const struct gwlink *link);

/* Whether ip lies in one of the encoded ranges (false while they are unknown). */
bool gwlink_is_encoded(const struct gwlink *link, const struct synth_ip *ip);

/* One GET_EA: the remote IPREF address in, the encoded address out. */
struct gwlink_ea {
	/* in */
	struct synth_ip context;
	struct ipr_ref ref;
	int family;	  /* AF_INET or AF_INET6: the encoded family wanted */
	const char *name; /* the DNS name it is handed out for, canonical text, or NULL */
	struct synth_ip
		client; /* the LAN client asking (gwctld's per-client limits); family 0: none */
	/* out */
	uint8_t status; /* enum ipr_ctl_status */
	struct synth_ip encoded;
	uint32_t ttl; /* seconds the mapping stays valid; UINT32_MAX: no lease */
	uint32_t id;  /* the request's id, set by gwlink_get_eas */
};

/*
 * Sends every request at once (gwlink_open returned 0), setting each one's id; gwlink_take_ea
 * stores the replies. Returns 0, -EAGAIN when the socket is full (the connection is kept), or
 * -ECONNRESET with the connection dropped.
 */
IPR_MUST_CHECK int gwlink_send_get_eas(struct gwlink *link, struct gwlink_ea *eas, size_t n);

/* Stores a GET_EA reply in its request; false when the reply does not fit the request. */
bool gwlink_take_ea(struct gwlink_ea *ea, const struct ipr_ctl_reply *reply);

/* Sends LOOKUP_EA of an encoded address; its id goes to *id. Returns as gwlink_send_get_eas. */
IPR_MUST_CHECK int gwlink_send_lookup_ea(struct gwlink *link, const struct synth_ip *encoded,
					 uint32_t *id);

/*
 * A LOOKUP_EA reply: 0 with the mapping's name ("" when it has none) and TTL, -ENOENT when the
 * address is not in use, -EIO when gwctld's store failed (E_STORE), -EPROTO for another refusal.
 */
IPR_MUST_CHECK int gwlink_take_name(const struct ipr_ctl_reply *reply, char name[IPR_NAME_MAX + 1],
				    uint32_t *ttl);

enum gwlink_received {
	GWLINK_NOTHING = 0, /* no message is waiting */
	GWLINK_REPLY = 1,   /* a reply to a request (match reply->hdr.id) */
	GWLINK_RANGES = 2,  /* RANGES came in: the link is ready, link->layout current */
};

/*
 * Reads one message without waiting. Returns enum gwlink_received, or -ECONNRESET, -EBADMSG
 * with the connection dropped (the requests sent on it are lost). The reply points into
 * link->buf until the next call. Replies nobody waits for (REPORT_COUNTERS) are skipped, and
 * any message ends a hold-off.
 */
IPR_MUST_CHECK int gwlink_receive(struct gwlink *link, struct ipr_ctl_reply *reply);

/* A request went unanswered for timeout_ms: the hold-off starts. */
void gwlink_timed_out(struct gwlink *link);

/*
 * Sends REPORT_COUNTERS for component (names[i] = values[i]) without waiting: its reply is
 * skipped by the next call, like any reply nobody waits for. Sends nothing unless the link is
 * ready (gwlink_open), nor while the socket is full, and since the
 * counters are totals the next report makes up for a lost one.
 */
void gwlink_report(struct gwlink *link, const char *component, const char *const *names,
		   const uint64_t *values, size_t n);

#endif
