/* libunbound's asynchronous interface behind a small cache of gateway names. */
#include "names.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unbound.h>

#include "context.h"
#include "log.h"

#define TTL_MIN	     30
#define NEGATIVE_TTL 30

struct name_entry {
	char name[IPR_NAME_MAX + 1];
	int family;
	bool in_flight;
	bool known;  /* an address was ever found */
	bool failed; /* the last answer was no address */
	uint8_t address[16];
	int64_t expires; /* monotonic seconds */
	const char *why; /* for failed: a fixed reason */
	struct names *owner;
};

struct names {
	struct ub_ctx *ctx;
	size_t count;
	struct name_entry entries[NAMES_MAX];
	uint64_t generation;
	bool changed;
};

static int64_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int names_open(struct names **out, const char *const *servers, size_t count)
{
	struct names *names = calloc(1, sizeof(*names));
	int rc = 0;

	if (!names)
		return -ENOMEM;
	names->ctx = ub_ctx_create();
	if (!names->ctx) {
		free(names);
		return -ENOMEM;
	}
	/* a thread, not a forked process: the daemon's privileges and files stay its own */
	if (ub_ctx_async(names->ctx, 1) != 0)
		rc = -EINVAL;
	for (size_t i = 0; rc == 0 && i < count; i++) {
		if (ub_ctx_set_fwd(names->ctx, servers[i]) != 0)
			rc = -EINVAL;
	}
	if (rc == 0 && count == 0 && ub_ctx_resolvconf(names->ctx, NULL) != 0)
		log_warn("names: /etc/resolv.conf cannot be read; resolving from the root");
	if (rc < 0) {
		names_free(names);
		return rc;
	}
	*out = names;
	return 0;
}

void names_free(struct names *names)
{
	if (!names)
		return;
	ub_ctx_delete(names->ctx);
	free(names);
}

int names_fd(const struct names *names)
{
	return ub_fd(names->ctx);
}

/*
 * The first address in the answer that a remote gateway can have (core/context.h), or NULL:
 * a name pointing at 127.0.0.1 or 0.0.0.0 is a mistake, never a gateway.
 */
static const char *usable_address(const struct ub_result *result, int family)
{
	size_t len = family == AF_INET ? 4 : 16;

	for (int i = 0; result->data[i]; i++) {
		struct ipr_context context = { .kind = family == AF_INET ? IPR_CONTEXT_IPV4
									 : IPR_CONTEXT_IPV6 };

		if (result->len[i] != (int)len)
			continue;
		memcpy(context.ipv6, result->data[i], len);
		/* a mapped AAAA would change the family the caller asked for: not taken */
		if (!ipr_context_unmap(&context) &&
		    ipr_context_check(&context, NULL) == IPR_ADDR_USABLE)
			return result->data[i];
	}
	return NULL;
}

/* Why a lookup gave no usable address, in words for `gwctl reload`'s notes. */
static const char *failure_text(int err, const struct ub_result *result)
{
	if (err)
		return "the resolver failed";
	if (result && result->nxdomain)
		return "no such name";
	if (result && result->bogus)
		return "DNSSEC validation failed";
	if (result && result->havedata)
		return "no address that can be a remote gateway (loopback, unspecified...)";
	return "no address of that family";
}

static void answered(void *arg, int err, struct ub_result *result)
{
	struct name_entry *e = arg;
	int ttl = result && result->ttl > TTL_MIN ? result->ttl : TTL_MIN;
	size_t len = e->family == AF_INET ? 4 : 16;
	const char *address = NULL;

	e->in_flight = false;
	if (!err && result && result->havedata && !result->bogus)
		address = usable_address(result, e->family);
	if (!address) {
		e->why = failure_text(err, result);
		if (e->known)
			log_warn("names: %s: %s; keeping %s for now", e->name, e->why,
				 "its address");
		else if (!e->failed)
			e->owner->changed = true; /* waiting requests learn it failed */
		e->failed = !e->known;
		e->expires = now_s() + NEGATIVE_TTL;
	} else {
		if (!e->known || memcmp(e->address, address, len) != 0)
			e->owner->changed = true;
		memset(e->address, 0, sizeof(e->address));
		memcpy(e->address, address, len);
		e->known = true;
		e->failed = false;
		e->expires = now_s() + ttl;
	}
	ub_resolve_free(result);
}

static void start_query(struct names *names, struct name_entry *e)
{
	int async_id;

	if (e->in_flight)
		return;
	e->in_flight = ub_resolve_async(names->ctx, e->name, e->family == AF_INET ? 1 : 28, 1, e,
					answered, &async_id) == 0;
	if (!e->in_flight) {
		e->failed = !e->known;
		e->why = "the resolver cannot take queries";
		e->expires = now_s() + NEGATIVE_TTL;
	}
}

bool names_process(struct names *names)
{
	ub_process(names->ctx);
	if (!names->changed)
		return false;
	names->changed = false;
	names->generation++;
	return true;
}

static struct name_entry *find(const struct names *names, const char *name, int family)
{
	for (size_t i = 0; i < names->count; i++) {
		if (names->entries[i].family == family && !strcmp(names->entries[i].name, name))
			return (struct name_entry *)&names->entries[i];
	}
	return NULL;
}

/* What an entry says: the address, a failure, or (e NULL too) an answer still awaited. */
static int answer_of(const struct name_entry *e, uint8_t out[16], const char **why)
{
	if (e && e->known) {
		memcpy(out, e->address, 16);
		return 0;
	}
	if (e && e->failed) {
		*why = e->why;
		return -ENOENT;
	}
	return -EAGAIN;
}

int names_lookup(struct names *names, const char *name, int family, uint8_t out[16],
		 const char **why)
{
	struct name_entry *e = find(names, name, family);

	if (e)
		return answer_of(e, out, why);
	if (names->count == NAMES_MAX) {
		*why = "too many gateway names";
		return -ENOSPC;
	}
	struct name_entry *fresh = &names->entries[names->count++];
	memset(fresh, 0, sizeof(*fresh));
	memcpy(fresh->name, name, strnlen(name, sizeof(fresh->name) - 1)); /* NUL from memset */
	fresh->family = family;
	fresh->owner = names;
	start_query(names, fresh);
	return answer_of(fresh, out, why);
}

struct names *names_copy(const struct names *names)
{
	struct names *copy = malloc(sizeof(*copy));

	if (!copy)
		return NULL;
	memcpy(copy, names, sizeof(*copy));
	copy->ctx = NULL; /* a copy answers from what was known; it never asks */
	return copy;
}

int names_known(const struct names *names, const char *name, int family, uint8_t out[16],
		const char **why)
{
	return answer_of(find(names, name, family), out, why);
}

void names_copy_free(struct names *copy)
{
	free(copy);
}

void names_refresh(struct names *names)
{
	int64_t now = now_s();

	for (size_t i = 0; i < names->count; i++) {
		if (names->entries[i].expires && names->entries[i].expires <= now)
			start_query(names, &names->entries[i]);
	}
}

uint64_t names_generation(const struct names *names)
{
	return names->generation;
}
