-- Migration 1: the mapping tables, quarantine and the views people read with sqlite3.
--
-- Addresses and references are stored as canonical text (RFC 5952 IPv6, decimal references),
-- so that every row reads as it is and equal values are equal strings for UNIQUE constraints.

-- Our references for local hosts: published (from zone or hosts files) or dynamic.
CREATE TABLE local_mapping (
    id         INTEGER PRIMARY KEY,
    kind       INTEGER NOT NULL CHECK (kind IN (1, 2)),    -- 1 published, 2 dynamic local
    ref        TEXT NOT NULL UNIQUE,                       -- our reference, decimal
    family     INTEGER NOT NULL CHECK (family IN (4, 6)),
    address    TEXT NOT NULL,                              -- the local host's address
    context    TEXT NOT NULL,                              -- the context it is published under
    name       TEXT,
    expires    INTEGER,                                    -- unix seconds; NULL: no lease
    source     TEXT NOT NULL,                              -- file:line, "dataplane", "cli"
    created    INTEGER NOT NULL,
    CHECK ((kind = 2) = (expires IS NOT NULL))
) STRICT;
-- One dynamic reference per local host; published ones may be several.
CREATE UNIQUE INDEX local_mapping_dynamic_address ON local_mapping (address) WHERE kind = 2;
CREATE INDEX local_mapping_address ON local_mapping (address);
CREATE INDEX local_mapping_expires ON local_mapping (expires) WHERE expires IS NOT NULL;

-- Encoded addresses standing for remote IPREF addresses: dynamic or configured.
CREATE TABLE remote_mapping (
    id         INTEGER PRIMARY KEY,
    kind       INTEGER NOT NULL CHECK (kind IN (3, 4)),    -- 3 dynamic remote, 4 static external
    encoded    TEXT NOT NULL UNIQUE,                       -- the encoded address
    family     INTEGER NOT NULL CHECK (family IN (4, 6)),  -- family of the encoded address
    context    TEXT NOT NULL,                              -- the remote gateway
    ref        TEXT NOT NULL,                              -- the remote reference, decimal
    name       TEXT,                                       -- DNS name it was asked for, if any
    expires    INTEGER,
    source     TEXT NOT NULL,
    created    INTEGER NOT NULL,
    UNIQUE (family, context, ref),
    CHECK ((kind = 3) = (expires IS NOT NULL))
) STRICT;
CREATE INDEX remote_mapping_expires ON remote_mapping (expires) WHERE expires IS NOT NULL;

-- Values whose mapping expired rest here before reuse, so stale caches never reach a new host.
CREATE TABLE quarantine (
    value      TEXT PRIMARY KEY,                           -- "encoded:ADDRESS" or "ref:DECIMAL"
    until      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX quarantine_until ON quarantine (until);

CREATE VIEW mappings AS
SELECT CASE kind WHEN 1 THEN 'published' ELSE 'dynamic local' END AS kind,
       address,
       context || ' + ' || ref AS ipref,
       name,
       CASE WHEN expires IS NULL THEN 'never'
            ELSE datetime(expires, 'unixepoch') || ' UTC' END AS expires,
       source
  FROM local_mapping
UNION ALL
SELECT CASE kind WHEN 3 THEN 'dynamic remote' ELSE 'static external' END,
       encoded,
       context || ' + ' || ref,
       name,
       CASE WHEN expires IS NULL THEN 'never'
            ELSE datetime(expires, 'unixepoch') || ' UTC' END,
       source
  FROM remote_mapping;

CREATE VIEW quarantined AS
SELECT value, datetime(until, 'unixepoch') || ' UTC' AS until FROM quarantine;
