/* gwctl status --json: the daemon's "key: value" status lines as typed JSON members. */
#ifndef GWCTL_CLI_STATUS_H
#define GWCTL_CLI_STATUS_H

#include "cli_json.h"

/*
 * Writes one status line as members of the open status object (the schema in docs/gwctl.md).
 * A line this version does not know, or cannot read, becomes a string member named after its
 * key; a line without "KEY: " is left out.
 */
void cli_status_json_line(struct json_out *j, const char *line);

#endif
