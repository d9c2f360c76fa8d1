-- Migration 12 (PostgreSQL): the count functions the triggers call on every write, in plpgsql
-- instead of SQL, with the same statements and meaning. PostgreSQL parses and plans the body of
-- an SQL function that it cannot inline (one that writes) at every call, where plpgsql plans it
-- once a session: ipref_count ran twice an allocation, and its planning was a quarter of the
-- server's time an allocation took (perf, docs/BENCHMARKS.md "Allocations on the PostgreSQL
-- store"). The expressions of names (ipref_quarantine_count_name, ipref_hold_count_name) stay
-- SQL, but are no longer STRICT: PostgreSQL inlines a STRICT function only when its body is
-- strict too, and a CASE is not, so each call ran as a function of its own. Their arguments
-- are columns declared NOT NULL, so the answer for NULL (now a name, not NULL) is never asked.
ALTER FUNCTION ipref_quarantine_count_name(text) CALLED ON NULL INPUT;
ALTER FUNCTION ipref_hold_count_name(text) CALLED ON NULL INPUT;
CREATE OR REPLACE FUNCTION ipref_count(counter text, delta bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO counts (name, value, gateway)
    VALUES (counter, delta, coalesce(current_setting('ipref.gateway', true), ''))
    ON CONFLICT (name, gateway) DO UPDATE SET value = counts.value + excluded.value;
END
$$;

CREATE OR REPLACE FUNCTION ipref_hold_count(counted text, delta bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hold_counts (pool, value) VALUES (counted, delta)
    ON CONFLICT (pool) DO UPDATE SET value = hold_counts.value + excluded.value;
    DELETE FROM hold_counts WHERE pool = counted AND value <= 0;
END
$$;

-- A remote mapping's two counts in one statement rather than two calls of ipref_count: each
-- call is a query of the trigger's, then one of the function's (as migration 3, one keyed
-- upsert a count; the two rows are distinct, so one statement may change both).
CREATE OR REPLACE FUNCTION remote_mapping_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO counts (name, value, gateway)
        VALUES ('mappings.' || OLD.kind, -1, coalesce(current_setting('ipref.gateway', true), '')),
               ('encoded.' || OLD.family, -1, coalesce(current_setting('ipref.gateway', true), ''))
        ON CONFLICT (name, gateway) DO UPDATE SET value = counts.value + excluded.value;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO counts (name, value, gateway)
        VALUES ('mappings.' || NEW.kind, 1, coalesce(current_setting('ipref.gateway', true), '')),
               ('encoded.' || NEW.family, 1, coalesce(current_setting('ipref.gateway', true), ''))
        ON CONFLICT (name, gateway) DO UPDATE SET value = counts.value + excluded.value;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION remote_mapping_count() IS
    'mappings.KIND and encoded.FAMILY, one upsert of both rows (migrations 3, 6 and 11)';
