/* The sources loader: zone pairs and `#=` hosts files turned into a checked set of mappings. */
#ifndef GWCTL_SOURCES_H
#define GWCTL_SOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"
#include "mapping.h"
#include "prefix.h"
#include "ref.h"

#define SOURCES_GATEWAY_MAX 8
#define SOURCES_ZONE_MAX    16
#define SOURCES_HOSTS_MAX   16
/* Paths with their NUL; also the size of an error's file name. */
#define SOURCES_PATH_MAX   4096
#define SOURCES_REASON_MAX 256
/* crypto_generichash_BYTES */
#define SOURCES_DIGEST_BYTES 32
/* References below this are never published: they are kept for the protocol's own use. */
#define SOURCES_REF_RESERVED IPR_REF_RESERVED_END

/* Bounds on what one load reads and keeps, so that no input can exhaust the daemon. */
#define SOURCES_FILE_MAX      (16u * 1024 * 1024) /* bytes in one file */
#define SOURCES_RECORD_MAX    65536		  /* characters in one zone entry */
#define SOURCES_INCLUDE_DEPTH 8			  /* $INCLUDE nesting */
#define SOURCES_INCLUDE_MAX   64		  /* files included by one zone file, in all */
#define SOURCES_ERROR_MAX     1000   /* errors listed; the last says when more were cut */
#define SOURCES_MAPPING_MAX   262144 /* mappings in one set */

/* A range of encoded addresses, as gwctl.conf's encoded-ipv4 and encoded-ipv6 give it. */
struct sources_range {
	bool enabled;
	struct ipr_prefix prefix; /* AF_INET for encoded[0], AF_INET6 for encoded[1] */
};

struct sources_zone_paths {
	char public_path[SOURCES_PATH_MAX];   /* the published zone with the AA TXT records */
	char internal_path[SOURCES_PATH_MAX]; /* the local hosts' A and AAAA records */
};

struct sources_config {
	/*
	 * Our gateway: the contexts we publish under, IPv4, IPv6 and DNS names (compared without
	 * regard to case or a trailing dot). An AA record under any other context belongs to
	 * another gateway and is skipped. A hosts `public + REF` line publishes under gateways[0].
	 */
	size_t gateway_count;
	struct ipr_context gateways[SOURCES_GATEWAY_MAX];
	/* Published references must lie outside [dynamic_min, dynamic_max] and above 1023. */
	struct ipr_ref dynamic_min, dynamic_max;
	/*
	 * [0] IPv4, [1] IPv6. External entries' addresses must lie inside the enabled range of
	 * their family and be neither its network address, nor its first host (the gateway's
	 * own), nor (IPv4) its broadcast address. Local hosts must lie outside both.
	 */
	struct sources_range encoded[2];
	size_t zone_count;
	struct sources_zone_paths zones[SOURCES_ZONE_MAX];
	size_t hosts_count;
	char hosts_paths[SOURCES_HOSTS_MAX][SOURCES_PATH_MAX];
	/* $INCLUDE is an error: set by the fuzzer, whose input must not reach the file system. */
	bool no_include;
};

struct source_error {
	char file[SOURCES_PATH_MAX];
	unsigned line; /* 1-based; 0: the whole file */
	char reason[SOURCES_REASON_MAX];
};

/* Where a mapping was written: a file of the set's files[] and a 1-based line. */
struct source_place {
	size_t file;
	unsigned line;
};

/*
 * What a load produced. A zero-initialised set is empty. Mappings are IPR_MAP_PUBLISHED
 * (address: the local host; context: ours, as the record or hosts line gave it; name: the
 * public owner name, or the hosts line's first name) or IPR_MAP_STATIC_EXTERNAL (address: the
 * encoded address; context: the remote gateway, a DNS name left for the daemon to resolve);
 * expires is 0 and source is "PATH:LINE" (the path shortened from the left to fit).
 */
struct source_set {
	struct ipr_mapping *mappings;
	struct source_place *places; /* places[i] is where mappings[i] comes from */
	size_t count, cap;
	struct source_error *errors;
	size_t error_count, error_cap;
	char **files; /* every file read, in reading order; places refer to it */
	size_t file_count, file_cap;
	/*
	 * A BLAKE2b digest (crypto_generichash) of each source's bytes, in config order: a zone
	 * pair's covers the public file, its includes, the internal file and its includes, each
	 * with its path; a file that cannot be read is covered by its path and errno. Equal digests
	 * mean unchanged sources. Each zone or hosts load takes the next slot; beyond
	 * SOURCES_*_MAX no digest is kept.
	 */
	size_t zone_digest_count, hosts_digest_count;
	uint8_t zone_digests[SOURCES_ZONE_MAX][SOURCES_DIGEST_BYTES];
	uint8_t hosts_digests[SOURCES_HOSTS_MAX][SOURCES_DIGEST_BYTES];
};

/*
 * Reads every zone pair and hosts file of cfg into out (which it clears first: it must be empty
 * or freed) and runs sources_check_conflicts. Returns 0 when nothing was wrong, -EINVAL when
 * errors were found (out->errors lists them all, each with file and line, and out->mappings
 * holds what was good), -ENOMEM. Only a return of 0 should replace the mappings in force.
 */
IPR_MUST_CHECK int sources_load(const struct sources_config *cfg, struct source_set *out);

/* Frees what the set owns and leaves it empty; NULL is a no-op. */
void source_set_free(struct source_set *set);

/*
 * One zone pair from memory, through the same code as sources_load; the names stand for the
 * files in errors and sources, and relative $INCLUDE paths start from their folders. Appends
 * to out without checking mappings against each other: call sources_check_conflicts when every
 * source is in. Returns 0 when out holds no error, -EINVAL when it does, -ENOMEM.
 *
 * A published AA record is matched by its owner's name relative to the public zone's origin
 * (its SOA owner, or else its first $ORIGIN): the same relative name under the internal
 * zone's origin must have an A or AAAA record, or a CNAME to a name in the internal zone that
 * has one. A reference stands for one host address: when the name has both A and AAAA the
 * IPv4 address is published, and several addresses of the chosen family are an error.
 */
IPR_MUST_CHECK int sources_load_zone_text(const struct sources_config *cfg, const char *public_name,
					  const char *public_text, size_t public_len,
					  const char *internal_name, const char *internal_text,
					  size_t internal_len, struct source_set *out);

/* One hosts file from memory, the same way. */
IPR_MUST_CHECK int sources_load_hosts_text(const struct sources_config *cfg, const char *name,
					   const char *text, size_t len, struct source_set *out);

/*
 * Once every source is in: drops repeated mappings (the same reference for the same host, the
 * same encoded address for the same remote address, whatever the files) and turns clashes
 * into errors at every place involved, keeping the first mapping of each: a reference
 * published for two hosts, an encoded address given to two remote addresses, one remote
 * address at two encoded addresses of a family. Running it again changes nothing. Returns 0
 * when the set holds no error, -EINVAL when it does, -ENOMEM.
 */
IPR_MUST_CHECK int sources_check_conflicts(const struct sources_config *cfg,
					   struct source_set *set);

/* "FILE:LINE: REASON" ("FILE: REASON" for line 0) into buf; returns what snprintf returns. */
int source_error_format(const struct source_error *error, char *buf, size_t size);

#endif
