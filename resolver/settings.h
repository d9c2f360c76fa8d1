/* The ipref module's own settings file (Unbound's dynlib has no room for module options). */
#ifndef SETTINGS_H
#define SETTINGS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "conf_table.h"
#include "err.h"

/* Read when IPREF_RESOLVER_CONF does not name another file; a missing default file is fine. */
#define SETTINGS_DEFAULT_PATH "/etc/ipref/resolver.conf"
#define SETTINGS_PATH_ENV     "IPREF_RESOLVER_CONF"

#define SETTINGS_SOCKET_MAX	 sizeof(((struct sockaddr_un *)0)->sun_path)
#define SETTINGS_TIMEOUT_MAX	 5000
#define SETTINGS_HOLDOFF_MAX	 60000
#define SETTINGS_LOOKUP_WAIT_MAX 5000

/* Internet families the gateway reaches; 0 means "ask gwctl" (its gateway addresses). */
enum settings_family {
	SETTINGS_FAMILY_AUTO = 0,
	SETTINGS_FAMILY_V4 = 1,
	SETTINGS_FAMILY_V6 = 2,
};

struct resolver_settings {
	char socket[SETTINGS_SOCKET_MAX]; /* gwctld's control socket */
	unsigned timeout_ms;	 /* longest a query waits for gwctld (the thread never does) */
	unsigned holdoff_ms;	 /* after a timeout, fail at once for this long */
	unsigned families;	 /* enum settings_family bits, or AUTO */
	unsigned max_records;	 /* AA records used per name, 1..SYNTH_AA_MAX */
	unsigned lookup_wait_ms; /* after the native answer, longest wait for TXT etc. */
	uint64_t seen;		 /* one bit per key given, to refuse repeats */
};

/* The keys, their kinds, bounds and fields, for core's settings dispatcher (core/conf_table.h). */
extern const struct ipr_settings settings_table;

void settings_defaults(struct resolver_settings *s);

/* One line of the file: 0 (s updated), or -EINVAL / -ERANGE with err (column in the line). */
IPR_MUST_CHECK int settings_parse_line(struct resolver_settings *s, const char *line, size_t len,
				       struct ipr_err *err);

/*
 * Reads the file at path over the defaults. Returns 0, -ENOENT when it does not exist (out
 * holds the defaults), or another -errno with "FILE:LINE:COLUMN: reason" in msg.
 */
IPR_MUST_CHECK int settings_load(const char *path, struct resolver_settings *out, char *msg,
				 size_t msg_size);

#endif
