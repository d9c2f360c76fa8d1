/* What a daemon takes from systemd and tells it: an inherited listening socket, readiness. */
#ifndef IPR_SDAEMON_H
#define IPR_SDAEMON_H

#include "err.h"

/*
 * The listening socket systemd passed (socket activation), checked to be an AF_UNIX socket of
 * type bound to path and listening. Returns the descriptor, -ENOENT when none was passed (the
 * daemon then creates its own), or -EINVAL when what was passed is not that socket, with msg
 * saying why. Clears LISTEN_FDS and LISTEN_PID so that children do not inherit them.
 */
IPR_MUST_CHECK int ipr_sd_listen_unix(const char *path, int type, char *msg, size_t msg_size);

/* Tells the service manager the daemon is ready (Type=notify); a no-op outside systemd. */
void ipr_sd_ready(const char *status);

#endif
