-- Migration 2 (PostgreSQL): as schema/002-inbound.sql, which encoded addresses made for inbound
-- traffic have carried traffic since, so that the idle ones are reclaimed first.

-- Unix seconds of the last use the dataplane reported; NULL: never used since it was made.
ALTER TABLE remote_mapping ADD COLUMN last_used bigint;

-- The mappings the dataplane made for unknown remote sources, per peer gateway, oldest first.
CREATE INDEX remote_mapping_inbound ON remote_mapping (context, created)
    WHERE kind = 3 AND source = 'dataplane';

-- A use report writes last_used at most once a minute per mapping; no other gateway needs to
-- hear of it, so the change log leaves that column out.
DROP TRIGGER remote_mapping_log ON remote_mapping;
CREATE TRIGGER remote_mapping_log
    AFTER INSERT OR DELETE OR UPDATE OF kind, encoded, family, context, ref, name, expires, source
    ON remote_mapping FOR EACH ROW EXECUTE FUNCTION ipref_log_change('encoded');
