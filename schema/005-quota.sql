-- Migration 5: values held against the quotas that bound new allocations under pressure
-- (gwctl/quota.c, docs/gwctl.md "Allocation under pressure"), so that a flood cannot exhaust
-- a range and the counts survive restarts.
--
-- A row stands for one encoded address counted against one pool:
--   'client:ADDRESS'  made by a LAN client's question and still on probation (live = 1), or
--                     resting in its short quarantine afterwards (live = 0);
--   'inbound:PEER'    made for an unknown inbound source, reclaimed idle and resting (live = 0).
-- A probation row goes when its mapping carries traffic (it is then an ordinary mapping); a
-- resting row goes once until has passed.
CREATE TABLE quota_hold (
    value      TEXT PRIMARY KEY,                           -- the encoded address
    pool       TEXT NOT NULL,
    live       INTEGER NOT NULL CHECK (live IN (0, 1)),
    until      INTEGER NOT NULL                            -- unix seconds the value is held to
) STRICT, WITHOUT ROWID;
CREATE INDEX quota_hold_pool ON quota_hold (pool, live, until);
CREATE INDEX quota_hold_until ON quota_hold (until) WHERE live = 0;

-- hold.client and hold.inbound: rows of each kind of pool, kept as for the other counts.
INSERT INTO counts (name, value) VALUES ('hold.client', 0), ('hold.inbound', 0);
CREATE TRIGGER quota_hold_count_insert AFTER INSERT ON quota_hold BEGIN
    UPDATE counts SET value = value + 1
     WHERE name = 'hold.' || CASE WHEN NEW.pool GLOB 'client:*' THEN 'client' ELSE 'inbound' END;
END;
CREATE TRIGGER quota_hold_count_delete AFTER DELETE ON quota_hold BEGIN
    UPDATE counts SET value = value - 1
     WHERE name = 'hold.' || CASE WHEN OLD.pool GLOB 'client:*' THEN 'client' ELSE 'inbound' END;
END;
