-- Migration 14: nothing to change here. In PostgreSQL (pg/014-bind-trigger.sql) a remote
-- mapping's insert fires one trigger for its change-log row and its counts, where it fired two;
-- SQLite has no change log, and its triggers are compiled once with the schema. The number is
-- kept so that both engines hold the same migrations (store-pg-schema checks it).
SELECT 1;
