-- Migration 11 (PostgreSQL): the count functions the triggers call on every write, in plpgsql
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
