/* The listening socket: made with its access set, or taken from systemd; a stale one replaced. */
#include "server_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A socket file nobody answers on is left over from a crash; a live one is another daemon. */
static int clear_stale_socket(const char *path, char *msg, size_t msg_size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(msg, msg_size, "%s exists and is not a socket; refusing to replace it",
			 path);
		return -EEXIST;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		snprintf(msg, msg_size, "%s: another gwctld is answering on this socket", path);
		return -EADDRINUSE;
	}
	return unlink(path) < 0 ? -errno : 0;
}

int server_listen(struct server *srv, int inherited_fd, char *msg, size_t msg_size)
{
	const struct gwctl_config *cfg = &srv->svc->cfg;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int rc;

	srv->group = (gid_t)-1;
	if (cfg->socket_group[0]) {
		struct group *gr = getgrnam(cfg->socket_group);
		if (!gr) {
			snprintf(msg, msg_size, "socket-group %s: no such group",
				 cfg->socket_group);
			return -ENOENT;
		}
		srv->group = gr->gr_gid;
	}
	if (inherited_fd >= 0) {
		/* socket activation: the unit's SocketGroup= and SocketMode= set the file's access
		 */
		srv->listen_fd = inherited_fd;
		srv->listen_inherited = true;
		rc = fcntl(inherited_fd, F_GETFL);
		if (rc < 0 || fcntl(inherited_fd, F_SETFL, rc | O_NONBLOCK) < 0 ||
		    fcntl(inherited_fd, F_SETFD, FD_CLOEXEC) < 0)
			return -errno;
		return 0;
	}
	rc = clear_stale_socket(cfg->socket, msg, msg_size);
	if (rc < 0) {
		if (!msg[0])
			snprintf(msg, msg_size, "%s: %s", cfg->socket, strerror(-rc));
		return rc;
	}
	srv->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (srv->listen_fd < 0)
		return -errno;
	strcpy(sun.sun_path, cfg->socket);
	/* Created with no access for others from the start: no window where anyone may connect. */
	old_mask = umask(0177);
	rc = bind(srv->listen_fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (rc < 0 || listen(srv->listen_fd, 64) < 0) {
		rc = -errno;
		snprintf(msg, msg_size, "%s: %s", cfg->socket, strerror(-rc));
		return rc;
	}
	if (srv->group != (gid_t)-1 &&
	    (chown(cfg->socket, (uid_t)-1, srv->group) < 0 || chmod(cfg->socket, 0660) < 0)) {
		rc = -errno;
		snprintf(msg, msg_size, "%s: cannot give the socket to group %s: %s", cfg->socket,
			 cfg->socket_group, strerror(-rc));
		return rc;
	}
	return 0;
}
