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
 * Nothing here knows Unbound: the module keeps one struct gwlink per worker thread (so no
 * locks), and never waits on gwctld longer than settings->timeout_ms per query. After a
 * timeout every call fails at once for holdoff_ms, so a stuck daemon costs each worker one
 * timeout per hold-off instead of one per query. The connection is kept: late replies carry
 * the IDs of requests given up on, which no later request reuses, so they are never taken for
 * answers; and the first of them to arrive ends the hold-off early, since a daemon that
 * answers again was only slow (a long fsync), not stuck.
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
};

#define GWLINK_COUNT(link, field) __atomic_add_fetch(&(link)->counters.field, 1, __ATOMIC_RELAXED)

struct gwlink {
	const struct resolver_settings *settings;
	struct ipr_ctl_client *client;
	int64_t holdoff_until_ms;
	bool ranges_pending; /* the connection's RANGES timed out: it is replaced, not reused */
	struct gwlink_layout layout;
	struct gwlink_counters counters;
	uint8_t buf[IPR_CTL_MSG_MAX];
};

/* The counters' names as reported (resolver.gwlink.NAME), in the order gwlink_counters_add
 * fills values. */
#define GWLINK_COUNTER_COUNT 6
extern const char *const gwlink_counter_names[GWLINK_COUNTER_COUNT];

/* Adds link's counters to totals[0..GWLINK_COUNTER_COUNT), from any thread. */
void gwlink_counters_add(const struct gwlink *link, uint64_t totals[GWLINK_COUNTER_COUNT]);

void gwlink_init(struct gwlink *link, const struct resolver_settings *settings);
void gwlink_deinit(struct gwlink *link);

/*
 * Connects when needed and reads RANGES on each new connection. Returns 0, -EAGAIN during a
 * hold-off, -ETIMEDOUT, or the connect error (-ENOENT, -ECONNREFUSED, -EACCES...).
 */
IPR_MUST_CHECK int gwlink_ready(struct gwlink *link);

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
 * Sends every request at once and collects the replies within one timeout. Returns 0 when each
 * request has a reply (check each status), or -ETIMEDOUT, -ECONNRESET, -EBADMSG, -EAGAIN
 * (hold-off) with the connection dropped.
 */
IPR_MUST_CHECK int gwlink_get_eas(struct gwlink *link, struct gwlink_ea *eas, size_t n);

/*
 * LOOKUP_EA of an encoded address. Returns 0 with the mapping's name ("" when it has none) and
 * TTL, -ENOENT when the address is not in use, or a transport error as gwlink_get_eas.
 */
IPR_MUST_CHECK int gwlink_lookup_ea(struct gwlink *link, const struct synth_ip *encoded,
				    char name[IPR_NAME_MAX + 1], uint32_t *ttl);

/*
 * Sends REPORT_COUNTERS for component (names[i] = values[i]) without waiting: its reply is
 * skipped by the next call, like any reply nobody waits for. Connects first when needed (as
 * gwlink_ready); nothing is sent while gwctld is away or the socket is full, and since the
 * counters are totals the next report makes up for a lost one.
 */
void gwlink_report(struct gwlink *link, const char *component, const char *const *names,
		   const uint64_t *values, size_t n);

#endif
