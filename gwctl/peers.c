/* Who may use the control socket: the kernel's view of a peer's user and groups. */
#include "peers.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* Enough for nearly every process; more are fetched into a buffer of the size the kernel says. */
#define PEERS_GROUPS_INLINE 256

static bool holds_group(int fd, gid_t group)
{
	gid_t inline_groups[PEERS_GROUPS_INLINE];
	gid_t *groups = inline_groups;
	socklen_t len = sizeof(inline_groups);
	bool found = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		if (errno != ERANGE)
			return false;
		/* len now holds the size needed: at most NGROUPS_MAX (65536) gids */
		groups = malloc(len);
		if (!groups || getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
			free(groups);
			return false;
		}
	}
	for (size_t i = 0; i < len / sizeof(gid_t) && !found; i++)
		found = groups[i] == group;
	if (groups != inline_groups)
		free(groups);
	return found;
}

bool peers_allowed(int fd, gid_t group, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0) {
		cred->pid = 0;
		cred->uid = (uid_t)-1;
		cred->gid = (gid_t)-1;
		return false;
	}
	if (cred->uid == 0 || cred->uid == geteuid())
		return true;
	if (group == (gid_t)-1)
		return false;
	return cred->gid == group || holds_group(fd, group);
}

int peers_hand_socket(const char *path, uid_t uid)
{
	return chown(path, uid, (gid_t)-1) < 0 ? -errno : 0;
}
