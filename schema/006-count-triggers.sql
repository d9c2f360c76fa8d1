-- Migration 6: the remote mappings' counting triggers of migration 3, one UPDATE per count.
--
-- `WHERE name IN (a, b)` with computed names made SQLite build a temporary index of the list
-- on every row the trigger fired for (a B-tree created, its page cleared, then dropped): the
-- insert trigger alone was about a sixth of the daemon's instructions per new allocation. Two
-- UPDATEs with `name = ...` each seek the counts' primary key once. What is counted is
-- unchanged (see 003-counts.sql).

DROP TRIGGER IF EXISTS remote_mapping_count_insert;
DROP TRIGGER IF EXISTS remote_mapping_count_delete;
DROP TRIGGER IF EXISTS remote_mapping_count_update;

CREATE TRIGGER remote_mapping_count_insert AFTER INSERT ON remote_mapping BEGIN
    UPDATE counts SET value = value + 1 WHERE name = 'mappings.' || NEW.kind;
    UPDATE counts SET value = value + 1 WHERE name = 'encoded.' || NEW.family;
END;
CREATE TRIGGER remote_mapping_count_delete AFTER DELETE ON remote_mapping BEGIN
    UPDATE counts SET value = value - 1 WHERE name = 'mappings.' || OLD.kind;
    UPDATE counts SET value = value - 1 WHERE name = 'encoded.' || OLD.family;
END;
CREATE TRIGGER remote_mapping_count_update AFTER UPDATE OF kind, family ON remote_mapping
WHEN OLD.kind IS NOT NEW.kind OR OLD.family IS NOT NEW.family BEGIN
    UPDATE counts SET value = value - 1 WHERE name = 'mappings.' || OLD.kind;
    UPDATE counts SET value = value - 1 WHERE name = 'encoded.' || OLD.family;
    UPDATE counts SET value = value + 1 WHERE name = 'mappings.' || NEW.kind;
    UPDATE counts SET value = value + 1 WHERE name = 'encoded.' || NEW.family;
END;
