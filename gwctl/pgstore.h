/* The PostgreSQL engine of the store: opening a store that several gateways share. */
#ifndef GWCTL_PGSTORE_H
#define GWCTL_PGSTORE_H

#include <stddef.h>

#include "err.h"
#include "store.h"

/*
 * Opens the shared store of a site's gateways (docs/store.md, "Several gateways"): connects
 * with libpq from conninfo ("host=... dbname=..." or a postgresql:// URI), names the gateway
 * (gateway: its id, sent as ipref.gateway, which the reserve, the clean-stop mark and the
 * counts are kept per), brings the schema up to date and prepares every statement. Blocks
 * while it does (at start, as the SQLite engine's open does). Refuses, with a sentence in msg,
 * a conninfo libpq cannot parse (-EINVAL), a server it cannot reach (-EIO), a database of
 * another application (-EPROTO) or one a newer gwctld migrated (-EPROTONOSUPPORT). The store
 * is then used through store.h and store_hold.h like any other.
 */
IPR_MUST_CHECK int pg_store_open(const char *conninfo, const char *gateway, struct store **out,
				 char *msg, size_t msg_size);
/*
 * A second connection to a store gwctld has opened, for a thread that reads while the daemon
 * writes (store_open_reader's counterpart): no migrations, every transaction read-only.
 */
IPR_MUST_CHECK int pg_store_open_reader(const char *conninfo, const char *gateway,
					struct store **out, char *msg, size_t msg_size);

#endif
