-- Migration 2: which encoded addresses made for inbound traffic have carried traffic since,
-- so that when inbound allocations run into their limits the idle ones are reclaimed first.

-- Unix seconds of the last use the dataplane reported; NULL: never used since it was made.
ALTER TABLE remote_mapping ADD COLUMN last_used INTEGER;

-- The mappings the dataplane made for unknown remote sources, per peer gateway, oldest first.
CREATE INDEX remote_mapping_inbound ON remote_mapping (context, created)
    WHERE kind = 3 AND source = 'dataplane';
