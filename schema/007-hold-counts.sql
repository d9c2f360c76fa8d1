-- Migration 7: how many holds each quota pool has, kept by triggers as the counts of
-- migration 3 are, so that admitting a LAN client's new allocation reads one row instead of
-- counting the client's entries of quota_hold_pool (up to client-limit, 512: about 400
-- instructions an entry, more than the rest of an allocation for a client near its limit).
-- Same transaction as the change: a rollback takes the count back with the row, and a hand
-- edit with sqlite3 keeps it true. A pool's row goes when its count reaches 0.

CREATE TABLE hold_counts (
    pool       TEXT PRIMARY KEY,                           -- as in quota_hold
    value      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO hold_counts (pool, value) SELECT pool, count(*) FROM quota_hold GROUP BY pool;

CREATE TRIGGER quota_hold_pool_count_insert AFTER INSERT ON quota_hold BEGIN
    INSERT INTO hold_counts (pool, value) VALUES (NEW.pool, 1)
        ON CONFLICT (pool) DO UPDATE SET value = value + 1;
END;
CREATE TRIGGER quota_hold_pool_count_delete AFTER DELETE ON quota_hold BEGIN
    UPDATE hold_counts SET value = value - 1 WHERE pool = OLD.pool;
    DELETE FROM hold_counts WHERE pool = OLD.pool AND value <= 0;
END;
-- a hold renewed for another pool (an upsert of quota.c) moves between the pools' counts
CREATE TRIGGER quota_hold_pool_count_update AFTER UPDATE OF pool ON quota_hold
WHEN OLD.pool IS NOT NEW.pool BEGIN
    UPDATE hold_counts SET value = value - 1 WHERE pool = OLD.pool;
    DELETE FROM hold_counts WHERE pool = OLD.pool AND value <= 0;
    INSERT INTO hold_counts (pool, value) VALUES (NEW.pool, 1)
        ON CONFLICT (pool) DO UPDATE SET value = value + 1;
END;
