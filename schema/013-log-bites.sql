-- Migration 13: nothing to change here. In PostgreSQL (pg/013-log-bites.sql) a gateway reads
-- the change log in bites of a bounded number of rows, and the log records how far it was
-- trimmed to the row; SQLite has no change log (one gateway, one store). The number is kept so
-- that both engines hold the same migrations (store-pg-schema checks it).
SELECT 1;
