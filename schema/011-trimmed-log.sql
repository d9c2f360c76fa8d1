-- Migration 11: nothing to change here. In PostgreSQL (pg/011-trimmed-log.sql) the change log
-- now records how far it was trimmed, so that a gateway whose feed fell behind the trim starts
-- again from the tables; SQLite has no change log (one gateway, one store). The number is kept
-- so that both engines hold the same migrations (store-pg-schema checks it).
SELECT 1;
