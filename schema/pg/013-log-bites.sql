-- Migration 13 (PostgreSQL): the change log read in bites. A read of everything after a
-- cursor had no bound: a gateway away for a while, or one whose peer wrote fast (a sweep
-- putting 100,000 values to rest), got one huge answer, and while gwctld took it in, its
-- backend's snapshot held back vacuum for the whole database (docs/BENCHMARKS.md). A reader
-- now asks for at most a bite of rows after a cursor of (transaction, sequence), and asks
-- again at once while a bite comes back full (docs/store.md, "The peers feed").
--
-- ipref_changes_after: at most bite rows after (after_txid, after_seq), in that order, only of
-- transactions below the reader's snapshot xmin (ended, so none of their rows can still come:
-- migration 1), and not the reader's own (gateway reader; NULL: all). Own rows left out before
-- the LIMIT: a bite counts only rows sent. A bite that comes back full ends at its last row's
-- (txid, seq), the next cursor; one that does not has read every row below xmin, so the next
-- cursor is (xmin, 0) (seq starts at 1). Read it as a plain FROM item and order outside (not
-- WITH ORDINALITY): PostgreSQL then inlines it and scans change_log_txid from the cursor, where
-- the function run as such plans without the cursor's values (15 to 40 ms a bite of a log of
-- 100,000 rows against 1.6 ms). ipref_changes_since stays, for a gwctld still running the older
-- reader while a newer one migrates.
CREATE FUNCTION ipref_changes_after(after_txid xid8, after_seq bigint, bite integer, reader text)
RETURNS TABLE (txid xid8, seq bigint, gateway text, tbl text, op text, key text,
               kind integer, family integer, address text, context text, ref text)
LANGUAGE sql STABLE AS $$
    SELECT c.txid, c.seq, c.gateway, c.tbl, c.op, c.key,
           c.kind, c.family, c.address, c.context, c.ref
      FROM change_log c
     WHERE (c.txid, c.seq) > (after_txid, after_seq)
       AND c.txid < pg_snapshot_xmin(pg_current_snapshot())
       AND c.gateway IS DISTINCT FROM reader
     ORDER BY c.txid, c.seq
     LIMIT bite
$$;

-- How far the log was trimmed, to the row: a bite may end inside a transaction, so a trim of
-- that transaction's rows is a loss only when it removed one after the cursor. upto_seq is the
-- seq of the highest (txid, seq) ever deleted (0 with a TRUNCATE's upto: every row below it).
-- A trim recorded before this migration is taken as having removed all of its transaction.
ALTER TABLE change_log_trimmed ADD COLUMN upto_seq bigint NOT NULL DEFAULT 0;
UPDATE change_log_trimmed SET upto_seq = 9223372036854775807 WHERE upto <> '0';

CREATE OR REPLACE FUNCTION ipref_log_trimmed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    top xid8;
    top_seq bigint := 0;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        top := pg_snapshot_xmax(pg_current_snapshot());
    ELSE
        SELECT t.txid, t.seq INTO top, top_seq FROM trimmed t ORDER BY t.txid DESC, t.seq DESC
         LIMIT 1;
    END IF;
    IF top IS NOT NULL THEN
        UPDATE change_log_trimmed SET upto = top, upto_seq = top_seq
         WHERE (upto, upto_seq) < (top, top_seq);
    END IF;
    RETURN NULL;
END
$$;
