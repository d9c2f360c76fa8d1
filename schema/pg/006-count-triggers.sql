-- Migration 6 (PostgreSQL): nothing to change. In SQLite (../006-count-triggers.sql) the
-- remote mappings' counting triggers were rewritten because `WHERE name IN (a, b)` made SQLite
-- build a temporary index on every row; remote_mapping_count() of migration 3 here already
-- changes each count with one keyed upsert. The number is kept so that both engines hold the
-- same migrations (store-pg-schema checks it); the comment records why it is empty.
COMMENT ON FUNCTION remote_mapping_count() IS
    'mappings.KIND and encoded.FAMILY, one keyed upsert a count (migrations 3 and 6)';
