/* What a request handler is given and the helpers every handler shares (service_handle). */
#ifndef GWCTL_HANDLERS_H
#define GWCTL_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "service.h"
#include "validity.h"

/* What a handler is given and fills; status != OK turns the reply into an error. */
struct request {
	struct service *svc;
	const struct ipr_ctl_header *hdr;
	const uint8_t *attrs;
	size_t attrs_len;
	const struct ipr_ctl_fields *f;
	struct ipr_ctl_builder *reply;
	int64_t now;
	uint8_t status;
	const char *message;
	bool doomed;	/* the store failed: the whole batch must be rolled back */
	bool keep_body; /* an error reply that keeps the attributes built so far */
	const struct service_ahead *ahead; /* a GET_EA sent ahead: what came of it, else NULL */
};

/* handlers.c: what every handler shares. */
/* The reply becomes an error of status with message; returns 0 (the request is answered). */
int handler_fail(struct request *r, uint8_t status, const char *message);
/* A reason naming an address, kept until the reply is built (the daemon is single-threaded). */
extern char handler_reason[VALIDITY_REASON_MAX];
/* A store error: the whole batch is doomed; returns 0. */
int handler_store_failed(struct request *r, int rc);
/* 0 for AF_INET, 1 for AF_INET6: the index of svc->range[] and svc->has_range[]. */
int handler_family_index(int family);
/* The mapping and its TTL as replies carry them. */
void handler_put_mapping(struct request *r, const struct ipr_mapping *m);
/* The request's SOURCE, or fallback. */
const char *handler_source(const struct ipr_ctl_fields *f, const char *fallback);
/*
 * A GET_EA's fields checked as its handler checks them, into m (context as stored, ref) and
 * *family (the one asked for). NULL when it can be answered, else why, with the reply's *status.
 */
const char *handler_get_ea_checked(struct service *svc, const struct ipr_ctl_fields *f,
				   struct ipr_mapping *m, int *family, uint8_t *status);
/*
 * The new remote mapping GET_EA binds, its value not chosen yet: m's fields from the request
 * and the lease, or probation when a LAN client asked.
 */
void handler_new_remote(const struct service *svc, const struct ipr_ctl_fields *f, int64_t now,
			int family, bool on_probation, struct ipr_mapping *m);

/*
 * One handler per request kind (service_handle picks it): validate, read or change the store,
 * build the reply. Each returns 0; r->status and r->doomed say how it went.
 */
/* handlers_alloc.c: what the resolver and the dataplane ask for, mappings made on demand */
int handle_get_ea(struct request *r);
int handle_get_ref(struct request *r);
int handle_ranges(struct request *r);
int handle_lookup_ea(struct request *r);
int handle_lookup_ref(struct request *r);
int handle_report_use(struct request *r);

/* handlers_admin.c: what operators and components ask for: listing, counters, hand-made */
int handle_list(struct request *r);
int handle_stats(struct request *r);
int handle_report_counters(struct request *r);
int handle_status(struct request *r);
int handle_map(struct request *r);
int handle_unmap(struct request *r);

#endif
