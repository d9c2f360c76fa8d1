/* gwctld: the gateway control daemon. Arguments, start-up, privileges; the loop is server.c. */
#include <errno.h>
#include <stdbool.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "names.h"
#include "peers.h"
#include "sdaemon.h"
#include "server.h"
#include "service.h"
#include "store.h"

#define DEFAULT_CONFIG "/etc/ipref/gwctl.conf"

/*
 * Hands the store's files, and the socket when the daemon made it (one systemd passed is the
 * socket unit's to own), to the user the daemon becomes, then becomes it.
 */
static int drop_privileges(const struct gwctl_config *cfg, bool socket_ours)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	struct passwd *pw;
	char path[CONFIG_PATH_MAX + 8];
	int rc;

	if (!cfg->user[0] || geteuid() != 0)
		return 0;
	pw = getpwnam(cfg->user);
	if (!pw) {
		log_error("user %s: no such user", cfg->user);
		return -ENOENT;
	}
	/* the SQLite store's files; a PostgreSQL store has none of gwctld's */
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]) && !cfg->store_conninfo[0];
	     i++) {
		snprintf(path, sizeof(path), "%s%s", cfg->database, suffixes[i]);
		if (chown(path, pw->pw_uid, pw->pw_gid) < 0 && errno != ENOENT) {
			log_error("%s: cannot hand it to %s: %s", path, cfg->user, strerror(errno));
			return -errno;
		}
	}
	/* the daemon's own user may use the socket (mode 0600 without a socket group) */
	rc = socket_ours ? peers_hand_socket(cfg->socket, pw->pw_uid) : 0;
	if (rc < 0) {
		log_error("%s: cannot hand it to %s: %s", cfg->socket, cfg->user, strerror(-rc));
		return rc;
	}
	return ipr_become_user(cfg->user);
}

int main(int argc, char **argv)
{
	struct ipr_daemon_args args;
	const char *config_path;
	struct gwctl_config cfg;
	struct service svc;
	struct store *store = NULL;
	struct store_spec spec;
	char store_name[CONFIG_PATH_MAX + 32];
	struct server *srv = NULL;
	char msg[1024];
	int rc, listen_fd;

	rc = ipr_daemon_args_parse(argc, argv, "gwctld", DEFAULT_CONFIG, &args);
	if (rc >= 0)
		return rc;
	config_path = args.config;
	/* from the start, so that configuration errors reach the journal as errors too */
	ipr_log_open("gwctld", args.use_syslog, IPR_LOG_INFO);
	config_defaults(&cfg);
	if (access(config_path, F_OK) == 0 || strcmp(config_path, DEFAULT_CONFIG) != 0) {
		rc = config_load(&cfg, config_path, msg, sizeof(msg));
		if (rc < 0) {
			log_error("%s", msg);
			return 1;
		}
	}
	if (config_check(&cfg, msg, sizeof(msg)) < 0) {
		log_error("%s: %s", config_path, msg);
		return 1;
	}
	if (args.check_only) {
		printf("%s: configuration is valid\n", config_path);
		return 0;
	}
	ipr_log_set_level((enum ipr_log_level)cfg.log_level);
	if (sodium_init() < 0) {
		log_error("libsodium cannot start");
		return 1;
	}

	spec = (struct store_spec){ cfg.database, cfg.store_conninfo, cfg.gateway_id };
	store_spec_text(&spec, store_name, sizeof(store_name));
	rc = store_open_spec(&spec, &store, msg, sizeof(msg));
	if (rc < 0) {
		log_error("%s", msg);
		return 1;
	}
	rc = service_init(&svc, &cfg, store);
	if (rc < 0) {
		log_error("out of memory");
		store_close(store);
		return 1;
	}
	rc = store_start(store, (int64_t)time(NULL), cfg.lease_secs, cfg.quarantine_secs,
			 &svc.start);
	if (rc < 0) {
		log_error("%s: cannot record the start in the store: %s", store_name,
			  strerror(-rc));
		service_deinit(&svc);
		store_close(store);
		return 1;
	}
	/* on PostgreSQL, refills move to a connection of their own once the start recovered */
	if (store_refill_behind(store) == 0)
		log_debug("store: the reserve's refills go on behind the event loop");
	if (svc.start.unclean)
		log_warn("store: gwctld did not stop cleanly last time (killed, crashed or power "
			 "lost): %llu reserved values rest in quarantine, %llu leases run at least "
			 "%u s from now (see docs/operations.md)",
			 (unsigned long long)svc.start.reserved_quarantined,
			 (unsigned long long)svc.start.leases_extended, cfg.lease_secs);
	snprintf(svc.config_path, sizeof(svc.config_path), "%s", config_path);
	{
		const char *servers[CONFIG_DNS_SERVERS_MAX];
		for (size_t i = 0; i < cfg.dns_server_count; i++)
			servers[i] = cfg.dns_servers[i];
		if (names_open(&svc.names, servers, cfg.dns_server_count) < 0)
			log_warn("cannot set up name resolution: external hosts given by gateway "
				 "name"
				 " will not be mapped");
	}
	msg[0] = '\0';
	listen_fd = ipr_sd_listen_unix(cfg.socket, SOCK_SEQPACKET, msg, sizeof(msg));
	rc = listen_fd == -EINVAL ? listen_fd : 0;
	if (rc == 0)
		rc = server_open(&srv, &svc, listen_fd, msg, sizeof(msg));
	if (rc < 0)
		log_error("%s", msg);
	if (rc == 0)
		rc = drop_privileges(&cfg, listen_fd < 0);
	if (rc == 0) {
		log_info("started: store %s%s", store_name,
			 listen_fd >= 0 ? ", socket from systemd" : "");
		/* clients may connect from here on: the socket listens, the loop comes next */
		ipr_sd_ready("serving");
		rc = server_run(srv);
	}
	server_free(srv);
	/* last: every commit on disk, and the next start knows nothing can be missing */
	if (store_mark_clean(store) < 0)
		log_warn("store: cannot record a clean stop; the next start treats this one as "
			 "unclean");
	service_deinit(&svc);
	store_close(store);
	return rc < 0 ? 1 : 0;
}
