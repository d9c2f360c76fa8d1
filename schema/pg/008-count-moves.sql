-- Migration 8 (PostgreSQL): a row that moves to another count by an UPDATE moves its count as
-- well, as ../008-count-moves.sql does in SQLite: a hold that gwctl/quota.c's upsert gives to
-- another kind of pool (a client's value taken again for a peer's inbound mapping before a
-- purge took its row, or back), and a resting value renamed by hand to another family. The
-- counts already so wrong are counted again from the rows.

CREATE FUNCTION ipref_hold_count_name(pool text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT 'hold.' || CASE WHEN pool LIKE 'client:%' THEN 'client' ELSE 'inbound' END
$$;

-- insert, delete, and now a change of pool (as quota_hold_pool_count() of migration 7)
CREATE OR REPLACE FUNCTION quota_hold_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM ipref_count(ipref_hold_count_name(OLD.pool), -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM ipref_count(ipref_hold_count_name(NEW.pool), 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER quota_hold_count_update AFTER UPDATE OF pool ON quota_hold
    FOR EACH ROW
    WHEN (ipref_hold_count_name(OLD.pool) IS DISTINCT FROM ipref_hold_count_name(NEW.pool))
    EXECUTE FUNCTION quota_hold_count();

-- the daemon never renames a resting value (its upsert changes until only): a hand edit
CREATE OR REPLACE FUNCTION quarantine_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM ipref_count(ipref_quarantine_count_name(OLD.value), -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM ipref_count(ipref_quarantine_count_name(NEW.value), 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER quarantine_count_update AFTER UPDATE OF value ON quarantine
    FOR EACH ROW
    WHEN (ipref_quarantine_count_name(OLD.value)
          IS DISTINCT FROM ipref_quarantine_count_name(NEW.value))
    EXECUTE FUNCTION quarantine_count();

-- The recount. A count is the sum of its rows, one per gateway (003-counts.sql): every
-- gateway's rows of these counts go, and the true count goes in the row of '' (the one that
-- migration 3 made). The lock waits for the transactions that change these tables (and their
-- rows of the counts) and keeps new ones out until this commits, so that no change is
-- counted twice or lost between the count and the rows it replaces.
LOCK TABLE quota_hold, quarantine IN SHARE MODE;
DELETE FROM counts WHERE name IN ('hold.client', 'hold.inbound', 'quarantine.encoded.4',
                                  'quarantine.encoded.6', 'quarantine.ref');
INSERT INTO counts (name, value)
SELECT ipref_hold_count_name(pool), count(*) FROM quota_hold GROUP BY 1;
INSERT INTO counts (name, value)
SELECT ipref_quarantine_count_name(value), count(*) FROM quarantine GROUP BY 1;
INSERT INTO counts (name, value)
VALUES ('hold.client', 0), ('hold.inbound', 0), ('quarantine.encoded.4', 0),
       ('quarantine.encoded.6', 0), ('quarantine.ref', 0)
ON CONFLICT DO NOTHING;
