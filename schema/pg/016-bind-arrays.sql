-- Migration 16 (PostgreSQL): ipref_bind_batch (migration 15) joins its WITH queries by
-- position in arrays rather than one against the other. The planner knows no WITH query's size
-- and takes each for one row, so it joined the batch's requests to the reserved values, the
-- added mappings to the requests (for the holds) and the requests to the added mappings (for
-- the answer) as nested loops, each scanning one query's rows again for every row of the other:
-- about 1 ms of the 3.1 ms statement for a batch of 64 new names with LAN clients
-- (docs/BENCHMARKS.md, "Refills behind the loop, and the batch statement's joins"). The
-- reserved values and the added mappings are now gathered once into arrays, and each request
-- takes its element (its place among the admitted, or the position of its value among those
-- added). What the function binds, holds and answers is unchanged: its arguments, its rows and
-- its outcomes are migration 15's.
CREATE OR REPLACE FUNCTION ipref_bind_batch(
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
-- batch's own rows (the WITH queries) are joined by position in arrays where the planner would
-- loop one over the other.
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
    -- the reserved values in their order, as arrays: a request takes the element of its place
    -- (a join of two WITH queries is planned as a loop of one over the other: their sizes are
    -- unknown to the planner, so it takes them for one row each)
    candidates AS MATERIALIZED (
        SELECT array_agg(c.id ORDER BY c.id) AS ids,
               array_agg(substr(c.value, 9) ORDER BY c.id) AS vals
        FROM reserve c
        WHERE c.gateway = reserve_gateway AND c.pool = reserve_pool
          AND c.id >= first_id AND c.id <= last_id AND c.value LIKE 'encoded:%'),
    assigned AS MATERIALIZED (
        SELECT a.ord, a.family, a.context, a.ref, a.name, a.expires, a.source, a.pool, a.until,
               c.ids[a.nth] AS taken, c.vals[a.nth] AS value
        FROM admitted a CROSS JOIN candidates c
        WHERE a.nth <= coalesce(cardinality(c.ids), 0)),
    added AS (
        INSERT INTO remote_mapping
            (kind, encoded, family, context, ref, name, expires, source, created)
        SELECT new_kind, s.value, s.family, s.context, s.ref, s.name, s.expires, s.source,
               extract(epoch FROM now())::bigint
        FROM assigned s ORDER BY s.ord
        ON CONFLICT DO NOTHING
        RETURNING remote_mapping.id, remote_mapping.encoded),
    -- what was added, as arrays: each request looks its value up in them
    bound AS MATERIALIZED (
        SELECT coalesce(array_agg(a.encoded), '{}') AS encoded,
               coalesce(array_agg(a.id), '{}') AS ids
        FROM added a),
    mine AS MATERIALIZED (
        SELECT s.*, b.ids[array_position(b.encoded, s.value)] AS id
        FROM assigned s CROSS JOIN bound b),
    held AS (
        INSERT INTO quota_hold (value, pool, live, until)
        SELECT m.value, m.pool, 1, m.until
        FROM mine m
        WHERE m.pool IS NOT NULL AND m.id IS NOT NULL
        ON CONFLICT (value) DO UPDATE
            SET pool = excluded.pool, live = excluded.live, until = excluded.until)
    SELECT coalesce(f.id, s.id), coalesce(f.kind, CASE WHEN s.id IS NOT NULL THEN new_kind END),
           coalesce(f.encoded, CASE WHEN s.id IS NOT NULL THEN s.value END),
           coalesce(f.family, CASE WHEN s.id IS NOT NULL THEN s.family END),
           coalesce(f.context, CASE WHEN s.id IS NOT NULL THEN s.context END),
           coalesce(f.ref, CASE WHEN s.id IS NOT NULL THEN s.ref END),
           CASE WHEN f.ord IS NOT NULL THEN f.name WHEN s.id IS NOT NULL THEN s.name END,
           coalesce(f.expires, CASE WHEN s.id IS NOT NULL THEN s.expires END),
           coalesce(f.source, CASE WHEN s.id IS NOT NULL THEN s.source END),
           CASE WHEN f.ord IS NOT NULL THEN 1
                WHEN s.id IS NOT NULL AND r.ord = r.first THEN 0
                WHEN s.id IS NOT NULL THEN 1
                ELSE 2 END,
           CASE WHEN r.ord = r.first THEN s.taken END, r.ord
    FROM req r
    LEFT JOIN found f ON f.ord = r.ord
    LEFT JOIN mine s ON s.ord = r.first
    ORDER BY r.ord;
END
$$;
