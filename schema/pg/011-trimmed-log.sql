-- Migration 11 (PostgreSQL): what the change log lost. The sweep trims the log after an hour
-- (a hand may delete rows or TRUNCATE it too); a gateway whose feed had not read a row before
-- it went, being away or held back, would miss that change for good. change_log_trimmed keeps
-- the highest txid of any row ever deleted from the log (for a TRUNCATE, one above every row it
-- can have held): a reader whose cursor is at or below a value it had not seen before lost
-- rows it had not read, and starts again from the tables themselves (docs/store.md, "The peers
-- feed"). One row, raised only: a trim that removes nothing, or only older rows, leaves it.
CREATE TABLE change_log_trimmed (
    upto xid8 NOT NULL
);
INSERT INTO change_log_trimmed VALUES ('0');

CREATE FUNCTION ipref_log_trimmed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    top xid8;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        top := pg_snapshot_xmax(pg_current_snapshot());
    ELSE
        SELECT txid INTO top FROM trimmed ORDER BY txid DESC LIMIT 1;
    END IF;
    IF top IS NOT NULL THEN
        UPDATE change_log_trimmed SET upto = top WHERE upto < top;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER change_log_deleted AFTER DELETE ON change_log
    REFERENCING OLD TABLE AS trimmed FOR EACH STATEMENT EXECUTE FUNCTION ipref_log_trimmed();
CREATE TRIGGER change_log_truncated AFTER TRUNCATE ON change_log
    FOR EACH STATEMENT EXECUTE FUNCTION ipref_log_trimmed();
