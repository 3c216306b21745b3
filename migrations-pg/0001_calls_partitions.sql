-- Raw calls are kept in one partition per UTC month of created_at (epoch ms), so retention drops
-- whole months (DROP TABLE: no dead rows, no vacuum, no hours-long DELETE of millions of rows)
-- and a month's queries read only its partitions. Hand-written (drizzle-kit generate --custom):
-- Drizzle cannot declare partitions or functions; the snapshot is unchanged.
--
-- The default partition takes any row no month partition holds yet (a replayed row from long
-- ago, a clock far ahead), so an insert never fails for want of a partition. It stays empty in
-- normal operation because tollbooth_ensure_calls_partitions creates the coming months ahead of
-- time (at every start and from the jobs); when it creates a month that the default partition
-- already holds rows of, it moves them into the new partition first.
CREATE TABLE "calls_default" PARTITION OF "calls" DEFAULT;
--> statement-breakpoint
-- Creates the partitions of the UTC month holding `around_ms` and of the `months_ahead` months
-- after it that do not exist yet; returns how many it created. Several instances may call it at
-- once: a transaction-level advisory lock makes them take turns, and the later ones find the
-- partitions there. A partition is filled (from the default partition) and indexed before it is
-- attached: ATTACH takes only a SHARE UPDATE EXCLUSIVE lock on calls, so inserts carry on.
CREATE FUNCTION tollbooth_ensure_calls_partitions(around_ms bigint, months_ahead integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  first_month timestamp := date_trunc('month', to_timestamp(around_ms / 1000.0) AT TIME ZONE 'UTC');
  month timestamp;
  lo bigint;
  hi bigint;
  part text;
  created integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('tollbooth_ensure_calls_partitions'));
  FOR i IN 0..months_ahead LOOP
    month := first_month + make_interval(months => i);
    -- epoch of a timestamp without time zone reads it as UTC
    lo := (extract(epoch FROM month) * 1000)::bigint;
    hi := (extract(epoch FROM month + interval '1 month') * 1000)::bigint;
    part := 'calls_' || to_char(month, 'YYYY_MM');
    CONTINUE WHEN to_regclass(quote_ident(part)) IS NOT NULL;
    EXECUTE format('CREATE TABLE %I (LIKE calls INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
    EXECUTE format('INSERT INTO %I SELECT * FROM calls_default WHERE created_at >= %s AND created_at < %s', part, lo, hi);
    EXECUTE format('DELETE FROM calls_default WHERE created_at >= %s AND created_at < %s', lo, hi);
    EXECUTE format('ALTER TABLE calls ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', part, lo, hi);
    created := created + 1;
  END LOOP;
  RETURN created;
END;
$$;
--> statement-breakpoint
-- Retention of raw calls: drops the month partitions that end at or before `before_ms`, with their
-- call_bodies rows, and returns their names. A partition still holding a row that is not rolled
-- up (commit_xid at or past `rolled_up_below_xid`, the rollup watermark) is kept for a later run,
-- so every total stays the same after a drop. The default partition is never dropped.
CREATE FUNCTION tollbooth_drop_calls_partitions(before_ms bigint, rolled_up_below_xid bigint) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  part record;
  pending boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('tollbooth_ensure_calls_partitions'));
  FOR part IN
    SELECT c.relname AS name,
           (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''?(-?[0-9]+)''?\)'))[1]::bigint AS hi
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'calls'::regclass AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
    ORDER BY 2
  LOOP
    CONTINUE WHEN part.hi > before_ms;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE commit_xid >= %s)', part.name, rolled_up_below_xid) INTO pending;
    CONTINUE WHEN pending;
    EXECUTE format('DELETE FROM call_bodies b USING %I c WHERE b.call_id = c.id', part.name);
    EXECUTE format('ALTER TABLE calls DETACH PARTITION %I', part.name);
    EXECUTE format('DROP TABLE %I', part.name);
    RETURN NEXT part.name;
  END LOOP;
END;
$$;
--> statement-breakpoint
-- The month of the migration and the three after it; later months come from the same function
-- at each start and from the jobs.
SELECT tollbooth_ensure_calls_partitions((extract(epoch FROM now()) * 1000)::bigint, 3);
