/* A test-only SQLite VFS that keeps writes not yet synced apart, to lose them at a power loss. */
#ifndef GWCTL_TESTS_POWERLOSS_VFS_H
#define GWCTL_TESTS_POWERLOSS_VFS_H

#include <stdbool.h>
#include <stdint.h>

/* Registers the VFS as SQLite's default, over the default unix VFS. Returns 0 or -1. */
int powerloss_register(void);
/* Writes to any file so far (a moment in time to cut power at). */
uint64_t powerloss_writes(void);
/*
 * Power goes at the write numbered at (counting from the start): that write and every later one,
 * every sync, truncation and deletion are lost until powerloss_reboot.
 */
void powerloss_arm(uint64_t at);
bool powerloss_dead(void);
/* The machine comes back: every write not synced before the power went is gone. */
void powerloss_reboot(void);

#endif
