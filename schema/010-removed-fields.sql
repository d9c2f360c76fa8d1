-- Migration 10: nothing to change here. In PostgreSQL (pg/010-removed-fields.sql) the change
-- log now keeps a deleted mapping's identity, so that the other gateways can tell their
-- dataplanes what was removed; SQLite has no change log (one gateway, one store). The number is
-- kept so that both engines hold the same migrations (store-pg-schema checks it).
SELECT 1;
