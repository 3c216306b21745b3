-- calls loses its default partition, so that retention can detach an old month CONCURRENTLY
-- (PostgreSQL refuses that while the table has a default partition). A plain DETACH or DROP of a
-- partition takes an ACCESS EXCLUSIVE lock on calls: queued behind any long read of calls, it
-- holds up every insert until that read ends. Hand-written (drizzle-kit generate --custom).
--
-- Without a default partition, a row of a month with no partition is refused ("no partition of
-- relation calls found for row"). Months are made ahead of time (at every start and from the
-- jobs), and the recorder makes the month of a refused row and writes the batch again
-- (server/recorder/pg-insert.ts), so a replayed old call or a clock far off still lands.
--
-- Rows in the default partition first go to month partitions of their own (the function below,
-- as it was, moves them there), then the default partition is dropped.
DO $$
DECLARE
  m bigint;
BEGIN
  FOR m IN SELECT DISTINCT (extract(epoch FROM date_trunc('month', to_timestamp(created_at / 1000.0) AT TIME ZONE 'UTC')) * 1000)::bigint FROM calls_default LOOP
    PERFORM tollbooth_ensure_calls_partitions(m, 0);
  END LOOP;
END $$;
--> statement-breakpoint
DROP TABLE "calls_default";
--> statement-breakpoint
-- Creates the partitions of the UTC month holding `around_ms` and of the `months_ahead` months
-- after it that do not exist yet; returns how many it created or attached again. Several
-- instances may call it at once: a transaction-level advisory lock makes them take turns, and the
-- later ones find the partitions there. A partition is created, then attached: ATTACH takes only
-- a SHARE UPDATE EXCLUSIVE lock on calls, so inserts carry on (CREATE TABLE … PARTITION OF would
-- take an ACCESS EXCLUSIVE one).
--
-- A month table that exists but is not attached was detached by a retention run that stopped
-- before it dropped it (server/usage/rollups/postgres/drop-months.ts). A row for that month is
-- being written now, so the table is attached again, rows and all, rather than dropped: its rows
-- are rolled up and stay counted once, and the next retention run detaches it again. A month
-- still pending detach is left to retention, which finishes the detach first.
CREATE OR REPLACE FUNCTION tollbooth_ensure_calls_partitions(around_ms bigint, months_ahead integer) RETURNS integer
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
    IF to_regclass(quote_ident(part)) IS NULL THEN
      EXECUTE format('CREATE TABLE %I (LIKE calls INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
    ELSIF EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(quote_ident(part))) THEN
      CONTINUE;
    END IF;
    EXECUTE format('ALTER TABLE calls ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', part, lo, hi);
    created := created + 1;
  END LOOP;
  RETURN created;
END;
$$;
--> statement-breakpoint
-- Retention now runs its steps from the job (drop-months.ts): DETACH … CONCURRENTLY cannot run
-- inside a function, whose statements are all in the caller's transaction.
DROP FUNCTION tollbooth_drop_calls_partitions(bigint, bigint);
