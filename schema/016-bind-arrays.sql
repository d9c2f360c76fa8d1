-- Migration 16: nothing to change here. In PostgreSQL (pg/016-bind-arrays.sql) the batch
-- statement of migration 15 joins its parts by position in arrays, where the planner looped one
-- over another; SQLite binds each request on its own (store_bind_ahead is -ENOTSUP there). The
-- number is kept so that both engines hold the same migrations (store-pg-schema checks it).
SELECT 1;
