/* The schema migrations compiled into gwctld (generated from schema/NNN-name.sql files). */
#ifndef GWCTL_SCHEMA_H
#define GWCTL_SCHEMA_H

/* schema_migrations[i] brings a store from user_version i to i + 1. */
extern const char *const schema_migrations[];
extern const unsigned schema_version;

/* PRAGMA application_id of every store: "IPRF". */
#define SCHEMA_APPLICATION_ID 0x49505246

#endif
