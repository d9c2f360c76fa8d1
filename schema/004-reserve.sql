-- Migration 4: values reserved ahead of need, and whether the daemon stopped cleanly.
--
-- gwctld binds new values with commits that do not wait for the disk. Every value it binds so
-- comes from `reserve`, whose rows reached the disk before they could be taken: after a power
-- loss, a binding the disk forgot leaves its value back in `reserve`, and the start that
-- follows an unclean stop sends all of `reserve` to quarantine (see docs/store.md).

-- pool: "encoded:PREFIX/LEN" or "ref:MIN-MAX"; value as in quarantine ("encoded:ADDRESS",
-- "ref:DECIMAL"); seq: the daemon's commit that added it, usable once a flush covered it.
-- Taken oldest first and added at the end, so that both touch few pages of the file; a value
-- may be here twice, or be bound or resting meanwhile: taking checks, the mappings' UNIQUE
-- constraints decide.
CREATE TABLE reserve (
    id         INTEGER PRIMARY KEY,
    pool       TEXT NOT NULL,
    value      TEXT NOT NULL,
    seq        INTEGER NOT NULL
) STRICT;
CREATE INDEX reserve_pool ON reserve (pool);

-- clean: 1 once gwctld stopped after its last commit reached the disk, 0 while it runs.
CREATE TABLE store_state (
    name       TEXT PRIMARY KEY,
    value      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
-- an existing store was written by a gwctld that synced every commit: nothing can be lost
INSERT INTO store_state (name, value) VALUES ('clean', 1);
