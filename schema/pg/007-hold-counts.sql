-- Migration 7 (PostgreSQL): how many holds each quota pool has, kept by a trigger function as
-- ../007-hold-counts.sql keeps them in SQLite, so that admitting a LAN client's allocation
-- reads one row instead of counting the client's holds. Same transaction as the change: a
-- rollback takes the count back with the row. A pool's row goes when its count reaches 0.
--
-- One row per pool, shared by the gateways (a client's quota is the site's): two gateways
-- wait on one row only when they admit the same client in the same moment.
CREATE TABLE hold_counts (
    pool       text PRIMARY KEY,                           -- as in quota_hold
    value      bigint NOT NULL
);

INSERT INTO hold_counts (pool, value) SELECT pool, count(*) FROM quota_hold GROUP BY pool;

CREATE FUNCTION ipref_hold_count(counted text, delta bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO hold_counts (pool, value) VALUES (counted, delta)
    ON CONFLICT (pool) DO UPDATE SET value = hold_counts.value + excluded.value;
    DELETE FROM hold_counts WHERE pool = counted AND value <= 0;
$$;

-- insert, delete, and a hold renewed for another pool (an upsert of gwctl/quota.c)
CREATE FUNCTION quota_hold_pool_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        PERFORM ipref_hold_count(OLD.pool, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM ipref_hold_count(NEW.pool, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER quota_hold_pool_count_insert AFTER INSERT ON quota_hold
    FOR EACH ROW EXECUTE FUNCTION quota_hold_pool_count();
CREATE TRIGGER quota_hold_pool_count_delete AFTER DELETE ON quota_hold
    FOR EACH ROW EXECUTE FUNCTION quota_hold_pool_count();
CREATE TRIGGER quota_hold_pool_count_update AFTER UPDATE OF pool ON quota_hold
    FOR EACH ROW WHEN (OLD.pool IS DISTINCT FROM NEW.pool)
    EXECUTE FUNCTION quota_hold_pool_count();
