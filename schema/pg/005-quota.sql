-- Migration 5 (PostgreSQL): values held against the quotas that bound new allocations under
-- pressure (gwctl/quota.c, docs/gwctl.md "Allocation under pressure"), as schema/005-quota.sql.
--
-- A row stands for one encoded address counted against one pool:
--   'client:ADDRESS'  made by a LAN client's question and still on probation (live = 1), or
--                     resting in its short quarantine afterwards (live = 0);
--   'inbound:PEER'    made for an unknown inbound source, reclaimed idle and resting (live = 0).
-- A probation row goes when its mapping carries traffic; a resting row goes once until has
-- passed. Shared by the gateways: a client's quota is the site's, whichever gateway it asks.
CREATE TABLE quota_hold (
    value      text PRIMARY KEY,                           -- the encoded address
    pool       text NOT NULL,
    live       integer NOT NULL CHECK (live IN (0, 1)),
    until      bigint NOT NULL                             -- unix seconds the value is held to
);
CREATE INDEX quota_hold_pool ON quota_hold (pool, live, until);
CREATE INDEX quota_hold_until ON quota_hold (until) WHERE live = 0;

-- hold.client and hold.inbound: rows of each kind of pool, kept as for the other counts.
INSERT INTO counts (name, value) VALUES ('hold.client', 0), ('hold.inbound', 0);
CREATE FUNCTION quota_hold_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM ipref_count('hold.' || CASE WHEN OLD.pool LIKE 'client:%' THEN 'client'
                                            ELSE 'inbound' END, -1);
    ELSE
        PERFORM ipref_count('hold.' || CASE WHEN NEW.pool LIKE 'client:%' THEN 'client'
                                            ELSE 'inbound' END, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER quota_hold_count_insert AFTER INSERT ON quota_hold
    FOR EACH ROW EXECUTE FUNCTION quota_hold_count();
CREATE TRIGGER quota_hold_count_delete AFTER DELETE ON quota_hold
    FOR EACH ROW EXECUTE FUNCTION quota_hold_count();
