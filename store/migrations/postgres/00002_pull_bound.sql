-- +goose Up
-- fieldsync_pull_bound returns the position below which every transaction that
-- could write to this database has finished: the smallest xid of a transaction
-- in progress in this database, or the next xid if there is none. Unlike the
-- snapshot's xmin it ignores transactions of other databases on the cluster, so
-- a long load into another database never stalls this one's pulls.
--
-- Order matters: xmax is read first, then the backends. A transaction that got
-- an xid below xmax already had it when the backends were read, so it is
-- listed if still running; one that gets an xid later gets one >= xmax. The
-- caller takes its own snapshot afterwards, so every transaction below the
-- bound has finished by then and its entries are visible.
-- +goose StatementBegin
CREATE FUNCTION fieldsync_pull_bound() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    xmax numeric;
    low  numeric;
    base numeric;
    least_running numeric;
BEGIN
    xmax := pg_snapshot_xmax(pg_current_snapshot())::text::numeric;
    low  := mod(xmax, 4294967296);
    base := xmax - low;
    -- backend_xid is a 32-bit xid, always within 2^31 of xmax: place it in the
    -- epoch that puts it nearest (xmax's, or one either side across a wrap).
    SELECT min(base + a.backend_xid::text::numeric +
               CASE WHEN a.backend_xid::text::numeric - low > 2147483648 THEN -4294967296
                    WHEN low - a.backend_xid::text::numeric > 2147483648 THEN 4294967296
                    ELSE 0 END)
      INTO least_running
      FROM pg_stat_activity a
     WHERE a.datname = current_database() AND a.backend_xid IS NOT NULL
       AND a.pid <> pg_backend_pid();
    RETURN COALESCE(LEAST(least_running, xmax), xmax)::text;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION fieldsync_pull_bound();
