/* Gateway names of external hosts resolved with libunbound, asynchronously, kept for their TTL. */
#ifndef GWCTL_NAMES_H
#define GWCTL_NAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"

#define NAMES_MAX	  256
#define NAMES_SERVERS_MAX 4

struct names;

/*
 * servers: "ADDRESS" or "ADDRESS@PORT" forwarders; none means the system's resolv.conf.
 * Answers are cached for their TTL (at least 30 s), failures for 30 s.
 */
IPR_MUST_CHECK int names_open(struct names **out, const char *const *servers, size_t count);
void names_free(struct names *names);

/* Readable when answers are waiting: then call names_process. */
int names_fd(const struct names *names);

/* Takes the answers that arrived; returns true when an address changed since it was used. */
bool names_process(struct names *names);

/*
 * The address of name in family (AF_INET or AF_INET6): 0 with out filled when known (also a
 * stale answer while a fresh one is on its way), -EAGAIN while the first answer is awaited,
 * -ENOENT when the name does not resolve (why gets a reason), -ENOSPC when too many names.
 */
IPR_MUST_CHECK int names_lookup(struct names *names, const char *name, int family, uint8_t out[16],
				const char **why);

/*
 * A copy of what is known now, for a thread that reads sources off the event loop: it answers
 * names_known only, never asks; names_copy_free frees it. NULL when out of memory.
 */
struct names *names_copy(const struct names *names);
void names_copy_free(struct names *copy);
/* As names_lookup, without starting a query: -EAGAIN for a name not asked about yet. */
IPR_MUST_CHECK int names_known(const struct names *names, const char *name, int family,
			       uint8_t out[16], const char **why);

/* Starts new queries for answers whose TTL ran out; called from the periodic sweep. */
void names_refresh(struct names *names);

/* Changes whenever a looked-up name's answer changes, so that sources are applied again. */
uint64_t names_generation(const struct names *names);

#endif
