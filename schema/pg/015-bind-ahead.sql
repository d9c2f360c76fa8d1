-- Migration 15 (PostgreSQL): a batch's new names bound in one statement, and the inserts of
-- remote mappings and of holds counted once a statement, so that the server's work an
-- allocation is no longer mostly starting statements (docs/store.md, "A batch's new names in
-- one statement"). What is written is what the statements it replaces wrote: the remote
-- mappings, for a LAN client's question the hold of its pool, the change-log rows and counts.
--
-- ipref_bind_batch binds a batch's new names in one statement, set-wise: the per-statement work
-- of the server (planning, starting the executor, a trigger's statements) is paid once a batch,
-- not once a name. Its arguments are parallel arrays, one element a request in the batch's
-- order; it answers one row a request (ord, last: its 1-based place). outcome 1: the address is
-- mapped (before the batch, or by an earlier request of it); that mapping. 0: a mapping was
-- added with one of the reserved values [first_id, last_id], handed out in order (the caller
-- read them and checked each free, canonical and flushed); taken: the reserve row it used, which
-- the caller deletes with the others at commit. 2: nothing bound, and the caller's usual way
-- decides: the client's pool has due holds or ended rests (quota.c reclaims them first), or is
-- at client-limit, or all clients' pools at client-total, or no reserved value is left, or the
-- insert met a unique value (a hand edit). The limits are counted as one request at a time
-- would: a client's holds and the batch's earlier admissions against pool_limit, then all
-- clients' holds and the batch's earlier admissions against clients_limit; a request over either
-- takes no hold. Limits arrive as arguments: they are the gateway's settings, not the store's.
CREATE FUNCTION ipref_bind_batch(
    want_family integer[], want_context text[], want_ref text[], new_name text[],
    new_expires bigint[], new_source text[], hold_pool text[], hold_until bigint[],
    new_kind integer, reserve_gateway text, reserve_pool text, first_id bigint, last_id bigint,
    at bigint, due_by bigint, pool_limit bigint, clients_limit bigint)
RETURNS TABLE (id bigint, kind integer, encoded text, family integer, context text, ref text,
               name text, expires bigint, source text, outcome integer, taken bigint,
               ord bigint)
-- One plan a session, made for any store size: a custom plan made at every call costs more than
-- the work, and a generic one made while the tables were small (a new store) joined them by
-- reading them whole, 6 ms a call once they held 30,000 mappings. Without sequential scans, each
-- request's rows are found by the indexes whatever the tables held when the plan was made; the
-- batch's own rows (the WITH queries) are joined as the planner likes.
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    -- first: the place of the name's first request in the batch, which binds it for all of them
    WITH req AS (
        SELECT u.*, min(u.ord) OVER (PARTITION BY u.family, u.context, u.ref) AS first
        FROM unnest(want_family, want_context, want_ref, new_name, new_expires, new_source,
                    hold_pool, hold_until)
            WITH ORDINALITY AS u(family, context, ref, name, expires, source, pool, until, ord)),
    -- each request's mapping looked up by the index, request by request (OFFSET 0 keeps the
    -- lookup from being turned into a join of the whole table)
    found AS (
        SELECT r.ord, m.id, m.kind, m.encoded, m.family, m.context, m.ref, m.name, m.expires,
               m.source
        FROM req r CROSS JOIN LATERAL (
            SELECT m.* FROM remote_mapping m
            WHERE m.family = r.family AND m.context = r.context AND m.ref = r.ref OFFSET 0) m),
    -- each name not mapped, at its first request in the batch
    fresh AS (
        SELECT r.* FROM req r
        WHERE r.ord = r.first AND NOT EXISTS (SELECT 1 FROM found f WHERE f.ord = r.ord)),
    -- admitted by the client's own limit, as quota.c's admission reads it: no holds due, no rests
    -- ended, room for this one after the batch's earlier ones (scalar subqueries, not EXISTS,
    -- which the planner may run as one hash of every hold: pgstore_stmt.c says why)
    in_pool AS (
        SELECT f.*, f.pool IS NULL
                    OR ((SELECT 1 FROM quota_hold h WHERE h.pool = f.pool AND h.live = 0
                         AND h.until <= at LIMIT 1) IS NULL
                        AND (SELECT 1 FROM quota_hold h WHERE h.pool = f.pool AND h.live = 1
                             AND h.until <= due_by LIMIT 1) IS NULL
                        AND (SELECT coalesce(max(c.value), 0) FROM hold_counts c
                             WHERE c.pool = f.pool)
                            + row_number() OVER (PARTITION BY f.pool ORDER BY f.ord)
                            <= pool_limit) AS ok
        FROM fresh f),
    -- materialized, as candidates: each is read once, not again for each row of the other
    admitted AS MATERIALIZED (
        SELECT s.*, row_number() OVER (ORDER BY s.ord) AS nth FROM (
            SELECT i.*, i.pool IS NULL
                        OR (SELECT coalesce(sum(c.value), 0) FROM counts c
                            WHERE c.name = 'hold.client')
                           + count(*) FILTER (WHERE i.pool IS NOT NULL) OVER (ORDER BY i.ord)
                           <= clients_limit AS share_ok
            FROM in_pool i WHERE i.ok) s
        WHERE s.share_ok),
    candidates AS MATERIALIZED (
        SELECT c.id, substr(c.value, 9) AS value, row_number() OVER (ORDER BY c.id) AS nth
        FROM reserve c
        WHERE c.gateway = reserve_gateway AND c.pool = reserve_pool
          AND c.id >= first_id AND c.id <= last_id AND c.value LIKE 'encoded:%'),
    assigned AS (
        SELECT a.ord, a.family, a.context, a.ref, a.name, a.expires, a.source, a.pool, a.until,
               c.id AS taken, c.value
        FROM admitted a JOIN candidates c ON c.nth = a.nth),
    added AS (
        INSERT INTO remote_mapping
            (kind, encoded, family, context, ref, name, expires, source, created)
        SELECT new_kind, s.value, s.family, s.context, s.ref, s.name, s.expires, s.source,
               extract(epoch FROM now())::bigint
        FROM assigned s ORDER BY s.ord
        ON CONFLICT DO NOTHING
        RETURNING remote_mapping.id, remote_mapping.kind, remote_mapping.encoded,
                  remote_mapping.family, remote_mapping.context, remote_mapping.ref,
                  remote_mapping.name, remote_mapping.expires, remote_mapping.source),
    held AS (
        INSERT INTO quota_hold (value, pool, live, until)
        SELECT a.encoded, s.pool, 1, s.until
        FROM added a JOIN assigned s ON s.value = a.encoded
        WHERE s.pool IS NOT NULL
        ON CONFLICT (value) DO UPDATE
            SET pool = excluded.pool, live = excluded.live, until = excluded.until)
    SELECT coalesce(f.id, a.id), coalesce(f.kind, a.kind),
           coalesce(f.encoded, a.encoded), coalesce(f.family, a.family),
           coalesce(f.context, a.context), coalesce(f.ref, a.ref),
           CASE WHEN f.ord IS NOT NULL THEN f.name ELSE a.name END,
           coalesce(f.expires, a.expires), coalesce(f.source, a.source),
           CASE WHEN f.ord IS NOT NULL THEN 1
                WHEN a.id IS NOT NULL AND r.ord = r.first THEN 0
                WHEN a.id IS NOT NULL THEN 1
                ELSE 2 END,
           CASE WHEN r.ord = r.first THEN s.taken END, r.ord
    FROM req r
    LEFT JOIN found f ON f.ord = r.ord
    LEFT JOIN assigned s ON s.ord = r.first
    LEFT JOIN added a ON a.encoded = s.value
    ORDER BY r.ord;
END
$$;
COMMENT ON FUNCTION ipref_bind_batch(integer[], text[], text[], text[], bigint[], text[],
                                     text[], bigint[], integer, text, text, bigint, bigint,
                                     bigint, bigint, bigint, bigint) IS
    'a batch''s new names bound to reserved values and held in their clients'' pools, in one '
    'statement (migration 15)';

-- A remote mapping's insert (every allocation of an encoded address) is logged and counted
-- once a statement, from the rows it added (a transition table), where migration 14's trigger
-- ran its statements once a row: the same change-log rows (remote_mapping, insert, encoded),
-- the same counts (mappings.KIND and encoded.FAMILY of this gateway), one NOTIFY. Deletes and
-- updates keep their triggers.
CREATE FUNCTION remote_mapping_rows_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_log (tbl, op, key)
    SELECT 'remote_mapping', 'insert', a.encoded FROM added a ORDER BY a.id;
    IF FOUND THEN
        INSERT INTO counts (name, value, gateway)
        SELECT c.name, count(*), coalesce(current_setting('ipref.gateway', true), '')
        FROM added a
        CROSS JOIN LATERAL (VALUES ('mappings.' || a.kind), ('encoded.' || a.family)) c(name)
        GROUP BY c.name
        ON CONFLICT (name, gateway) DO UPDATE SET value = counts.value + excluded.value;
        PERFORM pg_notify('ipref_changes', '');
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION remote_mapping_rows_added() IS
    'remote mappings added: their change-log rows, mappings.KIND and encoded.FAMILY, the '
    'NOTIFY, once a statement (migration 15)';

DROP TRIGGER remote_mapping_added ON remote_mapping;
DROP FUNCTION remote_mapping_added();
CREATE TRIGGER remote_mapping_rows_added AFTER INSERT ON remote_mapping
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION remote_mapping_rows_added();

-- A hold's insert (every LAN client's new name) is counted once a statement too, from the rows
-- it added, where two row triggers each called a count function: hold.client or hold.inbound in
-- counts (as migration 8's quota_hold_count), the pool's row in hold_counts (as migration 7's
-- quota_hold_pool_count, less its delete of a count at zero, which an added row never leaves).
-- Deletes and changes of pool keep their triggers.
CREATE FUNCTION quota_hold_rows_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO counts (name, value, gateway)
    SELECT 'hold.' || CASE WHEN a.pool LIKE 'client:%' THEN 'client' ELSE 'inbound' END,
           count(*), coalesce(current_setting('ipref.gateway', true), '')
    FROM added a GROUP BY 1
    ON CONFLICT (name, gateway) DO UPDATE SET value = counts.value + excluded.value;
    INSERT INTO hold_counts (pool, value)
    SELECT a.pool, count(*) FROM added a GROUP BY a.pool
    ON CONFLICT (pool) DO UPDATE SET value = hold_counts.value + excluded.value;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION quota_hold_rows_added() IS
    'holds added: hold.client or hold.inbound, and their pools'' hold_counts rows, once a '
    'statement (migration 15)';

DROP TRIGGER quota_hold_count_insert ON quota_hold;
DROP TRIGGER quota_hold_pool_count_insert ON quota_hold;
CREATE TRIGGER quota_hold_rows_added AFTER INSERT ON quota_hold
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION quota_hold_rows_added();
