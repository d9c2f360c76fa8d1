/* The daemons' side of systemd's socket activation and readiness protocol, over libsystemd. */
#include "sdaemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include "log.h"

int ipr_sd_listen_unix(const char *path, int type, char *msg, size_t msg_size)
{
	int n = sd_listen_fds(1);

	if (n < 0) {
		snprintf(msg, msg_size, "socket activation: %s", strerror(-n));
		return -EINVAL;
	}
	if (n == 0)
		return -ENOENT;
	/* one socket, and the one the configuration names: clients find it by that path */
	if (n != 1) {
		snprintf(msg, msg_size, "socket activation: %d sockets passed, one expected", n);
		return -EINVAL;
	}
	if (sd_is_socket_unix(SD_LISTEN_FDS_START, type, 1, path, 0) <= 0) {
		snprintf(msg, msg_size,
			 "socket activation: the socket passed is not a listening %s socket at %s "
			 "(ListenSequentialPacket= of the socket unit and socket in the "
			 "configuration must agree)",
			 type == SOCK_SEQPACKET ? "seqpacket" : "unix", path);
		return -EINVAL;
	}
	return SD_LISTEN_FDS_START;
}

void ipr_sd_ready(const char *status)
{
	int rc = sd_notifyf(0, "READY=1\nSTATUS=%s", status);

	if (rc < 0)
		log_warn("cannot tell systemd the daemon is ready: %s", strerror(-rc));
}
