-- Migration 14 (PostgreSQL): a remote mapping's insert (every allocation of an encoded
-- address) fires one trigger instead of two, and reads its key as a column rather than through
-- to_jsonb of the whole row. Its change-log row and its two counts are one statement, its
-- NOTIFY a plpgsql expression as before. The rows written are the same as migrations 3, 10 and
-- 12 wrote: the log's (remote_mapping, insert, encoded) with the same defaults, mappings.KIND
-- and encoded.FAMILY of this gateway's counts. Updates and deletes keep their triggers. A
-- backend inserting rows 100 a transaction spent 55-60 us of CPU a row before, 45-48 us after
-- (docs/BENCHMARKS.md, "Allocations on the PostgreSQL store").
CREATE FUNCTION remote_mapping_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    WITH logged AS (
        INSERT INTO change_log (tbl, op, key) VALUES ('remote_mapping', 'insert', NEW.encoded))
    INSERT INTO counts (name, value, gateway)
    VALUES ('mappings.' || NEW.kind, 1, coalesce(current_setting('ipref.gateway', true), '')),
           ('encoded.' || NEW.family, 1, coalesce(current_setting('ipref.gateway', true), ''))
    ON CONFLICT (name, gateway) DO UPDATE SET value = counts.value + excluded.value;
    PERFORM pg_notify('ipref_changes', '');
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION remote_mapping_added() IS
    'a remote mapping added: its change-log row, mappings.KIND and encoded.FAMILY, the NOTIFY';

DROP TRIGGER remote_mapping_count_insert ON remote_mapping;
DROP TRIGGER remote_mapping_log ON remote_mapping;
-- as migration 2 made it, less the insert: a use report (last_used) is still no change
CREATE TRIGGER remote_mapping_log
    AFTER DELETE OR UPDATE OF kind, encoded, family, context, ref, name, expires, source
    ON remote_mapping FOR EACH ROW EXECUTE FUNCTION ipref_log_change('encoded');
CREATE TRIGGER remote_mapping_added AFTER INSERT ON remote_mapping
    FOR EACH ROW EXECUTE FUNCTION remote_mapping_added();
