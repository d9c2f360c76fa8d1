-- Migration 9 (PostgreSQL): an update that changes a row's key (quarantine's value renamed, a
-- mapping's ref or encoded address edited by hand) logs the old key too, as a delete, before
-- the new one. A reader reads each logged key's row again for its state now; with only the
-- new key logged it never learnt that the old one was gone, and kept it.
CREATE OR REPLACE FUNCTION ipref_log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    row_key text;
    old_key text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_key := to_jsonb(OLD) ->> TG_ARGV[0];
    ELSE
        row_key := to_jsonb(NEW) ->> TG_ARGV[0];
    END IF;
    IF TG_OP = 'UPDATE' THEN
        old_key := to_jsonb(OLD) ->> TG_ARGV[0];
        IF old_key IS DISTINCT FROM row_key THEN
            INSERT INTO change_log (tbl, op, key) VALUES (TG_TABLE_NAME, 'delete', old_key);
        END IF;
    END IF;
    INSERT INTO change_log (tbl, op, key) VALUES (TG_TABLE_NAME, lower(TG_OP), row_key);
    PERFORM pg_notify('ipref_changes', '');
    RETURN NULL;
END
$$;
