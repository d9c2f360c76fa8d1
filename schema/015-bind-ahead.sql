-- Migration 15: nothing to change here. In PostgreSQL (pg/015-bind-ahead.sql) a batch's new
-- names are bound in one statement, and the inserts of mappings and holds are logged and
-- counted once a statement; SQLite runs in the daemon's process, where a statement costs no
-- round trip and little to start, and compiles its triggers once.
-- The number is kept so that both engines hold the same migrations (store-pg-schema checks it).
SELECT 1;
