-- Migration 3: counts kept as the mappings change, so that STATUS and STATS cost the same
-- with a million mappings as with ten. Triggers keep them in the same transaction as the
-- change itself: a rollback takes the count back with the row, and a hand edit with sqlite3
-- keeps them true as well.

-- mappings.KIND (1-4), encoded.FAMILY (remote mappings by the family of their encoded
-- address), quarantine.encoded.FAMILY and quarantine.ref (resting values, until swept).
CREATE TABLE counts (
    name       TEXT PRIMARY KEY,
    value      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO counts (name, value)
SELECT 'mappings.' || kind, count(*) FROM (SELECT kind FROM local_mapping
                                          UNION ALL SELECT kind FROM remote_mapping)
 GROUP BY kind;
INSERT OR IGNORE INTO counts (name, value)
VALUES ('mappings.1', 0), ('mappings.2', 0), ('mappings.3', 0), ('mappings.4', 0);
INSERT INTO counts (name, value)
SELECT 'encoded.' || family, count(*) FROM remote_mapping GROUP BY family;
INSERT OR IGNORE INTO counts (name, value) VALUES ('encoded.4', 0), ('encoded.6', 0);
-- an IPv6 encoded address has a colon after "encoded:", an IPv4 one has none
INSERT INTO counts (name, value)
SELECT 'quarantine.' || CASE WHEN value GLOB 'encoded:*:*' THEN 'encoded.6'
                             WHEN value GLOB 'encoded:*' THEN 'encoded.4' ELSE 'ref' END AS k,
       count(*) FROM quarantine GROUP BY k;
INSERT OR IGNORE INTO counts (name, value)
VALUES ('quarantine.encoded.4', 0), ('quarantine.encoded.6', 0), ('quarantine.ref', 0);

CREATE TRIGGER local_mapping_count_insert AFTER INSERT ON local_mapping BEGIN
    UPDATE counts SET value = value + 1 WHERE name = 'mappings.' || NEW.kind;
END;
CREATE TRIGGER local_mapping_count_delete AFTER DELETE ON local_mapping BEGIN
    UPDATE counts SET value = value - 1 WHERE name = 'mappings.' || OLD.kind;
END;
CREATE TRIGGER local_mapping_count_update AFTER UPDATE OF kind ON local_mapping
WHEN OLD.kind IS NOT NEW.kind BEGIN
    UPDATE counts SET value = value - 1 WHERE name = 'mappings.' || OLD.kind;
    UPDATE counts SET value = value + 1 WHERE name = 'mappings.' || NEW.kind;
END;

CREATE TRIGGER remote_mapping_count_insert AFTER INSERT ON remote_mapping BEGIN
    UPDATE counts SET value = value + 1
     WHERE name IN ('mappings.' || NEW.kind, 'encoded.' || NEW.family);
END;
CREATE TRIGGER remote_mapping_count_delete AFTER DELETE ON remote_mapping BEGIN
    UPDATE counts SET value = value - 1
     WHERE name IN ('mappings.' || OLD.kind, 'encoded.' || OLD.family);
END;
CREATE TRIGGER remote_mapping_count_update AFTER UPDATE OF kind, family ON remote_mapping
WHEN OLD.kind IS NOT NEW.kind OR OLD.family IS NOT NEW.family BEGIN
    UPDATE counts SET value = value - 1
     WHERE name IN ('mappings.' || OLD.kind, 'encoded.' || OLD.family);
    UPDATE counts SET value = value + 1
     WHERE name IN ('mappings.' || NEW.kind, 'encoded.' || NEW.family);
END;

-- The daemon renews a resting value with an upsert (an UPDATE), never INSERT OR REPLACE,
-- whose hidden delete would fire no trigger.
CREATE TRIGGER quarantine_count_insert AFTER INSERT ON quarantine BEGIN
    UPDATE counts SET value = value + 1
     WHERE name = 'quarantine.' || CASE WHEN NEW.value GLOB 'encoded:*:*' THEN 'encoded.6'
                                        WHEN NEW.value GLOB 'encoded:*' THEN 'encoded.4'
                                        ELSE 'ref' END;
END;
CREATE TRIGGER quarantine_count_delete AFTER DELETE ON quarantine BEGIN
    UPDATE counts SET value = value - 1
     WHERE name = 'quarantine.' || CASE WHEN OLD.value GLOB 'encoded:*:*' THEN 'encoded.6'
                                        WHEN OLD.value GLOB 'encoded:*' THEN 'encoded.4'
                                        ELSE 'ref' END;
END;
