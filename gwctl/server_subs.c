/* Subscriptions: a snapshot streamed as it is read, then committed changes and layout changes. */
#include "server_impl.h"

/* Snapshot pages are produced while a subscriber's queue is below this. */
#define SNAPSHOT_LOW_WATER (QUEUE_CAP / 4)
#define SNAPSHOT_PAGE	   32

/* SUBSCRIBE is answered here: the snapshot is streamed as the subscriber reads. */
size_t server_subscribe(struct server *srv, struct client *c, const struct ipr_ctl_header *hdr,
			uint8_t *reply, size_t cap)
{
	struct ipr_ctl_builder b;
	size_t len = 0;

	if (c->subscribed)
		return service_error_reply(reply, cap, hdr->kind, hdr->id, IPR_CTL_E_BUSY,
					   "already subscribed on this connection");
	c->subscribed = true;
	srv->svc->subscribers++;
	c->snapshot_done = false;
	c->snapshot_cursor = 0;
	c->sub_id = hdr->id;
	srv->svc->counters.requests[IPR_CTL_SUBSCRIBE]++;
	ipr_ctl_build(&b, reply, cap, IPR_CTL_SUBSCRIBE | IPR_CTL_REPLY, IPR_CTL_OK, hdr->id);
	ipr_ctl_put_u64(&b, IPR_CTL_A_GENERATION, srv->svc->generation);
	if (ipr_ctl_finish(&b, &len) < 0)
		len = 0;
	return len;
}

static void put_event(struct ipr_ctl_builder *b, uint8_t kind, uint32_t id, uint64_t generation,
		      const struct ipr_mapping *m)
{
	ipr_ctl_build(b, b->buf, IPR_CTL_MSG_MAX, kind, IPR_CTL_OK, id);
	ipr_ctl_put_u64(b, IPR_CTL_A_GENERATION, generation);
	if (m)
		ipr_mapping_put(b, m);
}

/*
 * Tells every subscriber about the changes the last commit made durable. GENERATION grows by
 * one per change, also for changes beyond what was kept to be told one by one.
 */
void server_publish_pending(struct server *srv)
{
	struct service *svc = srv->svc;
	struct ipr_ctl_builder b = { .buf = srv->scratch };

	if (svc->pending_overflow) {
		/* more changes than we kept track of: subscribers must start over from a snapshot
		 */
		for (size_t i = 0; i < srv->client_cap; i++) {
			if (srv->clients[i].fd >= 0 && srv->clients[i].subscribed) {
				svc->counters.subscribers_dropped++;
				server_close_client(srv, &srv->clients[i]);
			}
		}
		svc->generation += svc->pending_changes;
		service_drop_pending(svc);
		return;
	}
	for (size_t p = 0; p < svc->pending_count; p++) {
		svc->generation++;
		for (size_t i = 0; i < srv->client_cap; i++) {
			struct client *c = &srv->clients[i];
			size_t len;
			if (c->fd < 0 || !c->subscribed)
				continue;
			put_event(&b, svc->pending[p].kind, c->sub_id, svc->generation,
				  &svc->pending[p].mapping);
			if (ipr_ctl_finish(&b, &len) == 0) {
				server_send(srv, c, srv->scratch, len);
				svc->counters.events_sent++;
			}
		}
	}
	service_drop_pending(svc);
}

/*
 * A reload changed the layout (RANGES' answer): subscribers (the dataplane) get EV_LAYOUT and
 * ask RANGES again; other connections that asked RANGES (resolver workers) are closed, so that
 * they ask it again on reconnecting. Either way nobody keeps the old layout.
 */
void server_tell_layout(struct server *srv)
{
	struct service *svc = srv->svc;
	struct ipr_ctl_builder b;

	svc->layout_changed = false;
	for (size_t i = 0; i < srv->client_cap; i++) {
		struct client *c = &srv->clients[i];
		size_t len;
		if (c->fd < 0)
			continue;
		if (c->subscribed) {
			ipr_ctl_build(&b, srv->scratch, IPR_CTL_MSG_MAX, IPR_CTL_EV_LAYOUT,
				      IPR_CTL_OK, c->sub_id);
			if (ipr_ctl_finish(&b, &len) == 0) {
				server_send(srv, c, srv->scratch, len);
				svc->counters.events_sent++;
			}
		} else if (c->asked_ranges) {
			svc->counters.layout_closed++;
			server_close_client(srv, c);
		}
	}
}

/* Feeds subscribers their snapshot a page at a time, as fast as they read it. */
void server_stream_snapshots(struct server *srv)
{
	struct ipr_mapping page[SNAPSHOT_PAGE];
	struct ipr_ctl_builder b = { .buf = srv->scratch };

	/* not before the peers feed's first cursor: a change in between would be in neither */
	if (!peers_feed_started(srv->feed))
		return;
	for (size_t i = 0; i < srv->client_cap; i++) {
		struct client *c = &srv->clients[i];
		while (c->fd >= 0 && c->subscribed && !c->snapshot_done &&
		       server_queued(c) < SNAPSHOT_LOW_WATER) {
			int n = store_list(srv->svc->store, &c->snapshot_cursor, page,
					   SNAPSHOT_PAGE);
			size_t len;
			if (n < 0) {
				server_close_client(srv, c);
				break;
			}
			for (int k = 0; k < n; k++) {
				put_event(&b, IPR_CTL_EV_ADDED, c->sub_id, srv->svc->generation,
					  &page[k]);
				if (ipr_ctl_finish(&b, &len) == 0)
					server_send(srv, c, srv->scratch, len);
			}
			if (n == 0) {
				put_event(&b, IPR_CTL_EV_SNAPSHOT_DONE, c->sub_id,
					  srv->svc->generation, NULL);
				if (ipr_ctl_finish(&b, &len) == 0)
					server_send(srv, c, srv->scratch, len);
				c->snapshot_done = true;
			}
		}
	}
}
