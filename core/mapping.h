/* One mapping as the daemon stores it and the protocol carries it: kind, two sides, lease, origin.
 */
#ifndef IPR_MAPPING_H
#define IPR_MAPPING_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "ctl_msg.h"
#include "ref.h"

#define IPR_MAPPING_SOURCE_MAX IPR_CTL_TEXT_MAX

struct ipr_mapping {
	int64_t id;		    /* the daemon's row id, unique within local or remote kinds */
	enum ipr_mapping_kind kind; /* which side is which, and whether it has a lease */
	/*
	 * Local kinds: the local host's address. Remote kinds: the encoded address.
	 * family is AF_INET or AF_INET6.
	 */
	int family;
	uint8_t address[16];
	/* Local kinds: the context we publish under. Remote kinds: the remote gateway. */
	struct ipr_context context;
	struct ipr_ref ref;
	char name[IPR_NAME_MAX + 1]; /* "" when unknown */
	int64_t expires;	     /* unix seconds; 0: no lease */
	char source[IPR_MAPPING_SOURCE_MAX + 1];
};

static inline bool ipr_mapping_is_local(const struct ipr_mapping *m)
{
	return m->kind == IPR_MAP_PUBLISHED || m->kind == IPR_MAP_DYNAMIC_LOCAL;
}

/* Adds the mapping as attributes (the caller opens a MAPPING nest when it wants one). */
void ipr_mapping_put(struct ipr_ctl_builder *b, const struct ipr_mapping *m);

/*
 * Reads a mapping from decoded fields. Required: MAP_KIND, REF, the address (LOCAL for local
 * kinds, ENCODED for remote ones) and the context (CONTEXT, or CONTEXT_NAME). -EINVAL if not.
 */
IPR_MUST_CHECK int ipr_mapping_from_fields(const struct ipr_ctl_fields *f, struct ipr_mapping *m);

/* "published", "dynamic local", "dynamic remote", "static external", or "unknown". */
const char *ipr_mapping_kind_name(enum ipr_mapping_kind kind);

#endif
