-- Migration 9: nothing to change here. In PostgreSQL (pg/009-renamed-keys.sql) the change log
-- now records a key that an update changed under its old value too; SQLite has no change log
-- (one gateway, one store). The number is kept so that both engines hold the same migrations
-- (store-pg-schema checks it); this comment records why it is empty.
SELECT 1;
