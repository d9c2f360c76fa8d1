-- Migration 10 (PostgreSQL): a deleted mapping's identity in the change log. A gateway reads
-- each logged key's row again and tells its dataplane what it finds; a deleted row is not
-- there to read, yet the dataplane's EV_REMOVED names the mapping by kind, family, address
-- (local or encoded), context and reference. So a delete (and the delete logged for a key an
-- update renamed, migration 9) now logs those fields of the old row; they are NULL otherwise.
ALTER TABLE change_log ADD COLUMN kind integer;
ALTER TABLE change_log ADD COLUMN family integer;
ALTER TABLE change_log ADD COLUMN address text;  -- local_mapping's address, remote's encoded
ALTER TABLE change_log ADD COLUMN context text;
ALTER TABLE change_log ADD COLUMN ref text;

CREATE OR REPLACE FUNCTION ipref_log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    row_key text;
    old_key text;
    old_row jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN
        row_key := to_jsonb(OLD) ->> TG_ARGV[0];
    ELSE
        row_key := to_jsonb(NEW) ->> TG_ARGV[0];
    END IF;
    IF TG_OP <> 'INSERT' THEN
        old_row := to_jsonb(OLD);
        old_key := old_row ->> TG_ARGV[0];
    END IF;
    IF TG_OP = 'UPDATE' AND old_key IS DISTINCT FROM row_key THEN
        INSERT INTO change_log (tbl, op, key, kind, family, address, context, ref)
        VALUES (TG_TABLE_NAME, 'delete', old_key, (old_row ->> 'kind')::integer,
                (old_row ->> 'family')::integer,
                coalesce(old_row ->> 'encoded', old_row ->> 'address'),
                old_row ->> 'context', old_row ->> 'ref');
    END IF;
    IF TG_OP = 'DELETE' THEN
        INSERT INTO change_log (tbl, op, key, kind, family, address, context, ref)
        VALUES (TG_TABLE_NAME, 'delete', row_key, (old_row ->> 'kind')::integer,
                (old_row ->> 'family')::integer,
                coalesce(old_row ->> 'encoded', old_row ->> 'address'),
                old_row ->> 'context', old_row ->> 'ref');
    ELSE
        INSERT INTO change_log (tbl, op, key) VALUES (TG_TABLE_NAME, lower(TG_OP), row_key);
    END IF;
    PERFORM pg_notify('ipref_changes', '');
    RETURN NULL;
END
$$;

-- The reader's function returns the old row's fields too (a new result type: dropped, made).
DROP FUNCTION ipref_changes_since(xid8);
CREATE FUNCTION ipref_changes_since(cursor xid8)
RETURNS TABLE (seq bigint, next_cursor xid8, gateway text, tbl text, op text, key text,
               kind integer, family integer, address text, context text, ref text)
LANGUAGE sql STABLE AS $$
    WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
    SELECT c.seq, h.xmin, c.gateway, c.tbl, c.op, c.key,
           c.kind, c.family, c.address, c.context, c.ref
      FROM change_log c, horizon h
     WHERE c.txid >= cursor AND c.txid < h.xmin
     ORDER BY c.txid, c.seq
$$;
