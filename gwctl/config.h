/* The gwctl daemon's configuration file: `key = value` lines, their defaults and checks. */
#ifndef GWCTL_CONFIG_H
#define GWCTL_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <sys/un.h>

#include "addr.h"
#include "conf.h"
#include "err.h"
#include "prefix.h"
#include "ref.h"
#include "conf_table.h"

/* Longest database path with its NUL. */
#define CONFIG_PATH_MAX PATH_MAX
/* The socket path with its NUL must fit the address the daemon binds. */
#define CONFIG_SOCKET_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)
/* Longest PostgreSQL conninfo of `store = postgresql:CONNINFO`, with its NUL. */
#define CONFIG_CONNINFO_MAX 1024
/* Longest user or group name without its NUL (the limit of Linux's shadow tools). */
#define CONFIG_NAME_MAX	   32
#define CONFIG_GATEWAY_MAX 8
/* Published sources: zone pairs and hosts files. */
#define CONFIG_SOURCES_MAX     16
#define CONFIG_DNS_SERVERS_MAX 4
/* Longest line config_load reads, without its newline. */
#define CONFIG_LINE_MAX IPR_CONF_LINE_MAX
/* Durations are whole seconds, 1 to 365 days. */
#define CONFIG_DURATION_MAX (365u * 24 * 60 * 60)
/* The inbound-* limits are 1 to this. */
#define CONFIG_INBOUND_MAX (1u << 24)
/* commit-batch and max-clients are 1 to this. */
#define CONFIG_COUNT_MAX 4096
/* Dynamic references below this are left for hand-picked published references. */
#define CONFIG_DYNAMIC_REF_FLOOR IPR_REF_RESERVED_END

enum config_log_level {
	CONFIG_LOG_ERROR,
	CONFIG_LOG_WARN,
	CONFIG_LOG_INFO,
	CONFIG_LOG_DEBUG,
};

struct config_ip {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
};

/* A range of encoded addresses; a disabled one (`none`) keeps its family and nothing else. */
struct config_prefix {
	bool enabled;
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned length;
};

/* The range as core's prefix, for membership and the places never handed out. */
struct ipr_prefix config_prefix_get(const struct config_prefix *range);

struct gwctl_config {
	char database[CONFIG_PATH_MAX];
	/* store = postgresql:CONNINFO: the site's shared store ("": SQLite at database) */
	char store_conninfo[CONFIG_CONNINFO_MAX];
	/* this gateway's id in the shared store ("": the host name), docs/store.md */
	char gateway_id[CONFIG_NAME_MAX + 1];
	char socket[CONFIG_SOCKET_PATH_MAX];
	char socket_group[CONFIG_NAME_MAX + 1]; /* "": mode 0600, the daemon's user only */
	char user[CONFIG_NAME_MAX + 1];		/* "": do not switch user */
	size_t gateway_count;
	struct config_ip gateways[CONFIG_GATEWAY_MAX];
	/* DNS names of this gateway, as AA records may give its context */
	size_t gateway_name_count;
	char gateway_names[CONFIG_GATEWAY_MAX][IPR_NAME_MAX + 1];
	/* zone pairs: the public zone with AA records, the internal one with local addresses */
	size_t zone_count;
	struct config_zone {
		char public_path[CONFIG_PATH_MAX];
		char internal_path[CONFIG_PATH_MAX];
	} zones[CONFIG_SOURCES_MAX];
	size_t hosts_count;
	char hosts_paths[CONFIG_SOURCES_MAX][CONFIG_PATH_MAX];
	/* forwarders for resolving external hosts' gateway names ("" count 0: resolv.conf) */
	size_t dns_server_count;
	char dns_servers[CONFIG_DNS_SERVERS_MAX][INET6_ADDRSTRLEN + 8];
	struct config_prefix encoded_ipv4;
	struct config_prefix encoded_ipv6;
	uint32_t lease_secs;
	uint32_t quarantine_secs;
	uint32_t sweep_interval_secs;
	struct ipr_ref dynamic_ref_min;
	struct ipr_ref dynamic_ref_max;
	uint32_t commit_batch;
	uint32_t flush_interval_ms; /* power loss forgets at most this much (docs/store.md) */
	uint32_t max_clients;
	uint32_t max_clients_per_user; /* 0: half of max_clients (gwctl/clients.h) */
	uint32_t idle_timeout_secs;    /* connections quiet this long are closed */
	/* limits on encoded addresses made for unknown remote sources (gwctl/inbound.h) */
	uint32_t inbound_per_peer;	  /* live ones per peer gateway */
	uint32_t inbound_total;		  /* live ones in all */
	uint32_t inbound_rate;		  /* new ones per second per peer gateway */
	uint32_t inbound_rate_total;	  /* new ones per second in all */
	uint32_t inbound_quarantine_secs; /* rest of an idle one reclaimed (gwctl/quota.h) */
	/* allocations made by LAN clients' questions (gwctl/quota.h) */
	uint32_t probation_secs; /* lease and answer TTL until a mapping carries traffic */
	uint32_t client_limit;	 /* values one client holds on probation or resting after */
	uint32_t client_total;	 /* the same for all clients; 0: half the smaller range */
	enum config_log_level log_level;
	/* One bit per key already set, so that a second occurrence is an error. */
	uint64_t seen;
};

/* The keys, their kinds, bounds and fields, for core's settings dispatcher (core/conf_table.h). */
extern const struct ipr_settings config_settings;

/* Every key at its default, none of them seen yet. */
void config_defaults(struct gwctl_config *cfg);

/*
 * Parses one line of line[0..len) (a trailing "\n" or "\r\n" is allowed) into cfg: blank and
 * comment lines change nothing; a setting changes cfg only if the whole line is good. Unknown
 * keys, a second occurrence of a key other than gateway, and control characters are errors.
 * Returns 0, -EINVAL or -ERANGE with the 1-based column in err.
 */
IPR_MUST_CHECK int config_parse_line(struct gwctl_config *cfg, const char *line, size_t len,
				     struct ipr_err *err);

/*
 * Reads the file at path over the defaults and, only if every line is good, stores the result
 * in cfg. On failure returns -errno and writes "PATH:LINE:COLUMN: reason" for the first bad
 * line (or "PATH: reason" when the file cannot be read) into msg, if msg_size allows. Does not
 * run config_check.
 */
IPR_MUST_CHECK int config_load(struct gwctl_config *cfg, const char *path, char *msg,
			       size_t msg_size);

/* Checks the rules that span keys; returns 0 or -EINVAL with the reason in msg. */
IPR_MUST_CHECK int config_check(const struct gwctl_config *cfg, char *msg, size_t msg_size);

/* The name config files use for a level ("error", "warn", "info", "debug"), or "". */
const char *config_log_level_name(enum config_log_level level);

#endif
