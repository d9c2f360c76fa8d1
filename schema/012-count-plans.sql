-- Migration 12: nothing to change here. In PostgreSQL (pg/012-count-plans.sql) the count
-- functions that its triggers call become plpgsql, whose plans are kept, and a remote
-- mapping's two counts change in one statement, where SQLite's triggers are compiled once with
-- the schema. The number is kept so that both engines hold the same migrations
-- (store-pg-schema checks it).
SELECT 1;
