/* Who may use the control socket: the kernel's view of a peer's user and groups. */
#ifndef GWCTL_PEERS_H
#define GWCTL_PEERS_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

/*
 * Root, the daemon's own (effective) user, and processes holding group (as their group or one
 * of their supplementary groups, as the kernel recorded them at connect: SO_PEERCRED and
 * SO_PEERGROUPS) may talk to the daemon; group (gid_t)-1 is none. Fills cred (uid -1 when
 * unknown). The user and group databases are not consulted: a group given by systemd's
 * SupplementaryGroups=, or one among hundreds, counts; one added in /etc/group to a user whose
 * processes have not picked it up yet does not.
 */
bool peers_allowed(int fd, gid_t group, struct ucred *cred);

/*
 * Hands the socket file at path to uid (its group stays), so that the daemon's own user can
 * still connect once the daemon has become it. 0 or -errno.
 */
int peers_hand_socket(const char *path, uid_t uid);

#endif
