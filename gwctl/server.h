/* The control socket: clients, batches of requests sharing one durable commit, subscriptions. */
#ifndef GWCTL_SERVER_H
#define GWCTL_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "service.h"

struct server;

/*
 * Serves on listen_fd, a listening socket systemd passed (socket activation), which it owns
 * from then on; or, with listen_fd -1, creates the listening socket at svc->cfg.socket with
 * mode 0660 and the configured group (0600 without one). A stale socket file is replaced; a
 * live one (another daemon answering) is an error. Must run before privileges are dropped.
 */
IPR_MUST_CHECK int server_open(struct server **out, struct service *svc, int listen_fd, char *msg,
			       size_t msg_size);

/* Serves until SIGTERM or SIGINT; SIGHUP reloads. Returns 0 on a clean stop. */
IPR_MUST_CHECK int server_run(struct server *srv);

void server_free(struct server *srv);

#endif
