-- Migration 8: a row that moves to another count by an UPDATE moves its count as well.
--
-- The counts of migrations 3 and 5 followed a row's insert and delete only, but gwctl/quota.c
-- holds a value again with an upsert that may change its pool's kind: a client's value that
-- has ended its rest, taken again before a purge took its row, for a peer's inbound mapping
-- (or back). hold.client then kept counting it and hold.inbound missed it. Likewise a resting
-- value renamed by hand to another family stayed in its old quarantine count. Both stores
-- already so wrong are counted again from their rows (hold_counts of migration 7 already
-- followed a change of pool).

CREATE TRIGGER quota_hold_count_update AFTER UPDATE OF pool ON quota_hold
WHEN (OLD.pool GLOB 'client:*') IS NOT (NEW.pool GLOB 'client:*') BEGIN
    UPDATE counts SET value = value - 1
     WHERE name = 'hold.' || CASE WHEN OLD.pool GLOB 'client:*' THEN 'client' ELSE 'inbound' END;
    UPDATE counts SET value = value + 1
     WHERE name = 'hold.' || CASE WHEN NEW.pool GLOB 'client:*' THEN 'client' ELSE 'inbound' END;
END;

-- the daemon never renames a resting value (its upsert changes until only): a hand edit
CREATE TRIGGER quarantine_count_update AFTER UPDATE OF value ON quarantine
WHEN OLD.value IS NOT NEW.value BEGIN
    UPDATE counts SET value = value - 1
     WHERE name = 'quarantine.' || CASE WHEN OLD.value GLOB 'encoded:*:*' THEN 'encoded.6'
                                        WHEN OLD.value GLOB 'encoded:*' THEN 'encoded.4'
                                        ELSE 'ref' END;
    UPDATE counts SET value = value + 1
     WHERE name = 'quarantine.' || CASE WHEN NEW.value GLOB 'encoded:*:*' THEN 'encoded.6'
                                        WHEN NEW.value GLOB 'encoded:*' THEN 'encoded.4'
                                        ELSE 'ref' END;
END;

UPDATE counts SET value = (SELECT count(*) FROM quota_hold WHERE pool GLOB 'client:*')
 WHERE name = 'hold.client';
UPDATE counts SET value = (SELECT count(*) FROM quota_hold WHERE NOT pool GLOB 'client:*')
 WHERE name = 'hold.inbound';
UPDATE counts SET value = (SELECT count(*) FROM quarantine WHERE value GLOB 'encoded:*:*')
 WHERE name = 'quarantine.encoded.6';
UPDATE counts
   SET value = (SELECT count(*) FROM quarantine
                 WHERE value GLOB 'encoded:*' AND NOT value GLOB 'encoded:*:*')
 WHERE name = 'quarantine.encoded.4';
UPDATE counts SET value = (SELECT count(*) FROM quarantine WHERE NOT value GLOB 'encoded:*')
 WHERE name = 'quarantine.ref';
