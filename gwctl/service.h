/* The daemon's state shared by the request handlers, the sweeper and the socket server. */
#ifndef GWCTL_SERVICE_H
#define GWCTL_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "config.h"
#include "inbound.h"
#include "ctl_msg.h"
#include "mapping.h"
#include "names.h"
#include "publish.h"
#include "quota.h"
#include "reports.h"
#include "store.h"

/* Counters shown by `gwctl stats`; each says what happened, not how often we logged it. */
struct service_counters {
	uint64_t requests[IPR_CTL_KIND_MAX + 1];
	uint64_t errors[IPR_CTL_STATUS_MAX + 1];
	uint64_t malformed;	    /* messages that could not be decoded */
	uint64_t denied_peers;	    /* connections refused by peer credentials */
	uint64_t refused_full;	    /* connections refused: max-clients reached */
	uint64_t refused_share;	    /* connections refused: the user holds its share */
	uint64_t closed_idle;	    /* connections closed after idle-timeout */
	uint64_t allocated_encoded; /* new encoded addresses */
	uint64_t allocated_refs;    /* new references */
	uint64_t exhausted;	    /* allocations refused because a range was full */
	uint64_t ahead_answered;    /* GET_EAs answered by their batch's statement */
	uint64_t ahead_usual;	    /* sent ahead, then answered the usual way */
	uint64_t expired;	    /* dynamic mappings removed at the end of their lease */
	uint64_t leases_extended;
	uint64_t commits;	     /* durable commits (one per batch of requests) */
	uint64_t committed_requests; /* requests answered after those commits */
	uint64_t store_failures;     /* batches the store could not commit */
	uint64_t store_replaced; /* of those, refused: the database file was deleted or replaced */
	uint64_t events_sent;
	uint64_t subscribers_dropped;  /* subscribers too slow to keep up, disconnected */
	uint64_t inbound_rate_limited; /* dataplane allocations refused: too fast */
	uint64_t inbound_over_quota;   /* dataplane allocations refused: too many live */
	uint64_t inbound_reclaimed;    /* idle dataplane-made mappings removed to make room */
	uint64_t reserved;	       /* values added to the reserve ahead of need */
	uint64_t refill_failures;      /* refills the store could not commit */
	uint64_t layout_changes;       /* reloads that changed the ranges or gateway addresses */
	uint64_t layout_closed;	       /* connections closed to have their RANGES asked again */
	/* the other gateways' changes (peers_feed.h): heard, ours skipped, told, unreadable */
	uint64_t peers_feed_changes; /* changes to mappings by other gateways or by hand */
	uint64_t peers_feed_own;     /* this gateway's own, told at their commit already */
	uint64_t peers_feed_added;   /* told as EV_ADDED (the row read again) */
	uint64_t peers_feed_removed; /* told as EV_REMOVED (the row gone) */
	uint64_t peers_feed_bad;     /* keys or logged rows that were not valid */
	uint64_t peers_feed_dropped; /* not kept (queue full): subscribers started over */
	uint64_t peers_feed_resyncs; /* the log trimmed past the cursor: subscribers started over */
	uint64_t peers_feed_connects;	/* the feed's connections made ready */
	uint64_t peers_feed_failures;	/* its attempts failed and connections lost */
	uint64_t peers_feed_reads;	/* its reads of the change log, a bite each */
	uint64_t peers_feed_full_reads; /* of them, full: the next bite asked at once */
};

/* A change to the mapping set, told to subscribers once it is committed. */
struct service_event {
	uint8_t kind; /* IPR_CTL_EV_ADDED or IPR_CTL_EV_REMOVED */
	struct ipr_mapping mapping;
};

struct service {
	struct gwctl_config cfg;
	char config_path[CONFIG_PATH_MAX];
	struct store *store;
	bool has_range[2]; /* [0] IPv4, [1] IPv6 */
	struct ipr_prefix range[2];
	/* A range found full stays full until the next sweep or unmap may have freed a value. */
	bool range_full[2];
	bool refs_full;
	struct service_counters counters;
	uint64_t generation; /* counts committed changes since start */
	int64_t started;     /* unix seconds */
	/* changes made by the batch being processed, published after its commit */
	struct service_event *pending;
	size_t pending_count;
	size_t pending_cap;
	bool pending_overflow;
	uint64_t pending_changes; /* every change of the batch, also those beyond pending_cap */
	struct publish_state publish;
	struct names *names;	 /* resolves external hosts' gateway names; NULL: none can be */
	uint64_t config_loads;	 /* configurations applied by reloads */
	bool layout_changed;	 /* a reload changed the layout: the server tells its clients */
	struct reports reports;	 /* other components' counters, for STATS */
	unsigned subscribers;	 /* connections subscribed to changes now: the dataplanes */
	struct inbound inbound;	 /* rate limits on dataplane allocations for unknown sources */
	uint64_t allocated_seen; /* allocations when the reserve was last refilled */
	struct store_start_report start; /* what the store found at start (unclean stop...) */
	struct quota_counters quota_counters;
	struct peers_feed *feed; /* the other gateways' changes (the server's); NULL: none */
};

/* The limits of gwctl/quota.h from the configuration and the ranges. */
void service_quota_limits(const struct service *svc, struct quota_limits *lim);

/*
 * Tops up the reserve of every range, at most chunk values a pool, in a transaction of its own
 * (off the answer's path: after a batch's replies). Returns how many values it added (chunk:
 * call again), or -errno. The values are usable once a flush has covered them: the caller asks
 * for one when it has added what the reserve lacked.
 */
#define REFILL_CHUNK_MIN 64
#define REFILL_CHUNK_MAX 512
#define REFILL_EVERY	 32
IPR_MUST_CHECK int service_refill(struct service *svc, size_t chunk);

/* The encoded ranges as svc->cfg gives them. */
void service_set_ranges(struct service *svc);

/* Sets up ranges from cfg; the store is opened by the caller. */
IPR_MUST_CHECK int service_init(struct service *svc, const struct gwctl_config *cfg,
				struct store *store);
void service_deinit(struct service *svc);

/* Wall-clock seconds, the unit of leases (overridable by tests through a link seam). */
int64_t service_now(void);

/*
 * A GET_EA of a batch sent ahead of the batch's other work, with the batch's others of its kind
 * (store_bind_ahead: on PostgreSQL one statement for all of them). Its handler then only
 * answers with what came of it, or goes the usual way.
 */
struct service_ahead {
	bool sent;		   /* prepared and bound: item.outcome says how it went */
	int family_index;	   /* of svc->range[] */
	char pool[QUOTA_POOL_MAX]; /* the LAN client's, "" when it named none */
	struct store_bind item;
};

/* Whether the store binds ahead (PostgreSQL); where not, preparing would be work for nothing. */
bool service_ahead_wanted(struct service *svc);
/*
 * True with *a prepared when the request msg (a whole message) is a GET_EA that may go ahead:
 * well formed and acceptable, for a name this gateway may map, asked by a LAN client or a
 * person (a dataplane's new source has its own quota, inbound_room); a->sent stays false.
 */
bool service_ahead_prepare(struct service *svc, const uint8_t *msg, size_t len,
			   struct service_ahead *a);
/*
 * The prepared aheads[0..n) bound together, in the store's open transaction; each then has sent
 * set (none when they are too few to gain by it). 0, or -EIO when the store failed so that the
 * batch is doomed.
 */
IPR_MUST_CHECK int service_ahead_run(struct service *svc, struct service_ahead *const *aheads,
				     size_t n);

/*
 * Handles one decoded request by the handler of its kind (handlers.h) and writes its single
 * reply into reply_buf. Writes go to the store's open transaction; changes are recorded in
 * svc->pending. ahead: what service_ahead_run did for it, or NULL. Returns the reply length, or
 * -EIO when the store failed in a way that dooms the whole batch (the caller then answers every
 * request of the batch with IPR_CTL_E_STORE).
 */
IPR_MUST_CHECK int service_handle(struct service *svc, const struct ipr_ctl_header *hdr,
				  const uint8_t *attrs, size_t attrs_len, uint8_t *reply_buf,
				  size_t reply_cap, const struct service_ahead *ahead);

/* Builds an error reply without attributes other than a MESSAGE. */
size_t service_error_reply(uint8_t *buf, size_t cap, uint8_t kind, uint32_t id, uint8_t status,
			   const char *message);

/*
 * Removes up to max expired dynamic mappings inside the open transaction, quarantining their
 * values; returns how many, or -errno.
 */
IPR_MUST_CHECK int service_sweep(struct service *svc, size_t max);

/* Appends a line of text to a reply, as STATUS and RELOAD give them (a COUNTER with a TEXT). */
void service_put_line(struct ipr_ctl_builder *b, const char *line);

/* Records a change for subscribers, published after the commit. */
void service_record(struct service *svc, uint8_t kind, const struct ipr_mapping *m);

/* Forgets pending changes (after a rollback). */
void service_drop_pending(struct service *svc);

/* Where the pending changes stand, to forget those made after it (a savepoint rolled back). */
struct service_pending_mark {
	size_t count;
	uint64_t changes;
	bool overflow;
};
struct service_pending_mark service_pending_mark(const struct service *svc);
void service_pending_rewind(struct service *svc, struct service_pending_mark mark);

#endif
