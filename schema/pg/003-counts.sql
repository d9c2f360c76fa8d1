-- Migration 3 (PostgreSQL): counts kept as the mappings change, as schema/003-counts.sql keeps
-- them in SQLite, with the triggers as plpgsql functions. Kept in the same transaction as the
-- change: a rollback takes the count back with the row, a hand edit with psql keeps them true.
--
-- One row per count and gateway (its `ipref.gateway` setting; '' for the rows counted here and
-- for hand edits): a row is locked by the transaction that changes it until its commit, and a
-- row shared by every gateway would make each gateway's batch wait for the others'. A count is
-- the sum of its rows, read as in SQLite with
--     SELECT name, sum(value) FROM counts GROUP BY name
-- (a gateway's own row may go below zero: it counts what that gateway changed).

-- mappings.KIND (1-4), encoded.FAMILY (remote mappings by the family of their encoded
-- address), quarantine.encoded.FAMILY and quarantine.ref (resting values, until swept).
CREATE TABLE counts (
    name       text NOT NULL,
    value      bigint NOT NULL,
    gateway    text NOT NULL DEFAULT '',
    PRIMARY KEY (name, gateway)
);

-- Adds delta to this gateway's row of a count.
CREATE FUNCTION ipref_count(counter text, delta bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO counts (name, value, gateway)
    VALUES (counter, delta, coalesce(current_setting('ipref.gateway', true), ''))
    ON CONFLICT (name, gateway) DO UPDATE SET value = counts.value + excluded.value
$$;

-- an IPv6 encoded address has a colon after "encoded:", an IPv4 one has none
CREATE FUNCTION ipref_quarantine_count_name(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT 'quarantine.' || CASE WHEN value LIKE 'encoded:%:%' THEN 'encoded.6'
                                 WHEN value LIKE 'encoded:%' THEN 'encoded.4'
                                 ELSE 'ref' END
$$;

INSERT INTO counts (name, value)
SELECT 'mappings.' || kind, count(*) FROM (SELECT kind FROM local_mapping
                                           UNION ALL SELECT kind FROM remote_mapping) m
 GROUP BY kind;
INSERT INTO counts (name, value)
VALUES ('mappings.1', 0), ('mappings.2', 0), ('mappings.3', 0), ('mappings.4', 0)
ON CONFLICT DO NOTHING;
INSERT INTO counts (name, value)
SELECT 'encoded.' || family, count(*) FROM remote_mapping GROUP BY family;
INSERT INTO counts (name, value) VALUES ('encoded.4', 0), ('encoded.6', 0)
ON CONFLICT DO NOTHING;
INSERT INTO counts (name, value)
SELECT ipref_quarantine_count_name(value) AS k, count(*) FROM quarantine
 GROUP BY ipref_quarantine_count_name(value);
INSERT INTO counts (name, value)
VALUES ('quarantine.encoded.4', 0), ('quarantine.encoded.6', 0), ('quarantine.ref', 0)
ON CONFLICT DO NOTHING;

-- One function per table for insert, delete and a change of kind (or family).
CREATE FUNCTION local_mapping_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM ipref_count('mappings.' || OLD.kind, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM ipref_count('mappings.' || NEW.kind, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER local_mapping_count_insert AFTER INSERT ON local_mapping
    FOR EACH ROW EXECUTE FUNCTION local_mapping_count();
CREATE TRIGGER local_mapping_count_delete AFTER DELETE ON local_mapping
    FOR EACH ROW EXECUTE FUNCTION local_mapping_count();
CREATE TRIGGER local_mapping_count_update AFTER UPDATE OF kind ON local_mapping
    FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind)
    EXECUTE FUNCTION local_mapping_count();

CREATE FUNCTION remote_mapping_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM ipref_count('mappings.' || OLD.kind, -1);
        PERFORM ipref_count('encoded.' || OLD.family, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM ipref_count('mappings.' || NEW.kind, 1);
        PERFORM ipref_count('encoded.' || NEW.family, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER remote_mapping_count_insert AFTER INSERT ON remote_mapping
    FOR EACH ROW EXECUTE FUNCTION remote_mapping_count();
CREATE TRIGGER remote_mapping_count_delete AFTER DELETE ON remote_mapping
    FOR EACH ROW EXECUTE FUNCTION remote_mapping_count();
CREATE TRIGGER remote_mapping_count_update AFTER UPDATE OF kind, family ON remote_mapping
    FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.family IS DISTINCT FROM NEW.family)
    EXECUTE FUNCTION remote_mapping_count();

-- A resting value is renewed with an upsert (INSERT ... ON CONFLICT DO UPDATE), which fires
-- no insert trigger when the row exists, so it is counted once.
CREATE FUNCTION quarantine_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM ipref_count(ipref_quarantine_count_name(OLD.value), -1);
    ELSE
        PERFORM ipref_count(ipref_quarantine_count_name(NEW.value), 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER quarantine_count_insert AFTER INSERT ON quarantine
    FOR EACH ROW EXECUTE FUNCTION quarantine_count();
CREATE TRIGGER quarantine_count_delete AFTER DELETE ON quarantine
    FOR EACH ROW EXECUTE FUNCTION quarantine_count();
