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
};

/* handlers.c */
int fail(struct request *r, uint8_t status, const char *message);
extern char reason[VALIDITY_REASON_MAX];
int store_failed(struct request *r, int rc);
int family_index(int family);
void put_mapping_reply(struct request *r, const struct ipr_mapping *m);
const char *source_of(const struct ipr_ctl_fields *f, const char *fallback);

/* handlers_alloc.c */
int handle_get_ea(struct request *r);
int handle_get_ref(struct request *r);
int handle_ranges(struct request *r);
int handle_lookup_ea(struct request *r);
int handle_lookup_ref(struct request *r);
int handle_report_use(struct request *r);

/* handlers_admin.c */
int handle_list(struct request *r);
int handle_stats(struct request *r);
int handle_report_counters(struct request *r);
int handle_status(struct request *r);
int handle_map(struct request *r);
int handle_unmap(struct request *r);

#endif
