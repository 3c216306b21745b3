-- The pair rollups (two dimensions at a time, see server/db/schema.ts) as WITHOUT ROWID tables, at
-- whole UTC hours and days only: a query reads 15-minute buckets only at the edges of its
-- periods, and reads those from usage_narrow_buckets or usage_buckets (rollup-levels.ts).
-- drizzle-kit generated this file with plain rowid tables; it was edited by hand before it was
-- first applied, because Drizzle cannot declare WITHOUT ROWID (see 0006 and 0009): the rows then
-- live in the primary key's B-tree, so a range scan of one pair by bucket_start reads the measures
-- beside the key, and an upsert writes one B-tree instead of two. The snapshot is unchanged by the
-- edit. PostgreSQL needs nothing here (a primary key is enough).
--
-- The tables are filled from the existing rollups so a database rolled up before this migration is
-- served by the pair family at once and to the nano-dollar. The hourly level is summed one pair
-- at a time from the hourly rollups: pairs of model, team, project and status from
-- usage_narrow_buckets_hourly (0009: usage_buckets summed over key_id and user, far fewer rows),
-- pairs with key_id or user from usage_buckets_hourly (0005/0006). Each is the exact sum of the
-- 15-minute truth (usage_buckets, kept forever; retention deletes raw calls, never buckets), so
-- its pair sums are too. The daily level is summed from the hourly pair rows. On the benchmark's
-- 10M calls (5.2M usage_buckets_hourly and 0.8M usage_narrow_buckets_hourly rows → 9.0M hourly
-- and 0.6M daily pair rows) this took 66 s on 2 cores, once, and grew the file by 0.8 GB.
-- `pair` names the two columns in the canonical order of DIMENSION_SQL (bucket-row-sql.ts), the
-- order server/spend/dimension-pairs.ts writes and reads.
CREATE TABLE `usage_pair_buckets_hourly` (
	`pair` text NOT NULL,
	`bucket_start` integer NOT NULL,
	`a` text NOT NULL,
	`b` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`cost_nano` integer DEFAULT 0 NOT NULL,
	`unpriced_requests` integer DEFAULT 0 NOT NULL,
	`duration_ms_sum` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`pair`, `bucket_start`, `a`, `b`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `usage_pair_buckets_daily` (
	`pair` text NOT NULL,
	`bucket_start` integer NOT NULL,
	`a` text NOT NULL,
	`b` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`cost_nano` integer DEFAULT 0 NOT NULL,
	`unpriced_requests` integer DEFAULT 0 NOT NULL,
	`duration_ms_sum` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`pair`, `bucket_start`, `a`, `b`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'model,key_id', `bucket_start`, `model`, `key_id`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'model,team', `bucket_start`, `model`, `team`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_narrow_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'model,project', `bucket_start`, `model`, `project`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_narrow_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'model,user', `bucket_start`, `model`, `user`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'model,status_class', `bucket_start`, `model`, `status_class`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_narrow_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'key_id,team', `bucket_start`, `key_id`, `team`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'key_id,project', `bucket_start`, `key_id`, `project`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'key_id,user', `bucket_start`, `key_id`, `user`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'key_id,status_class', `bucket_start`, `key_id`, `status_class`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'team,project', `bucket_start`, `team`, `project`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_narrow_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'team,user', `bucket_start`, `team`, `user`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'team,status_class', `bucket_start`, `team`, `status_class`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_narrow_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'project,user', `bucket_start`, `project`, `user`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'project,status_class', `bucket_start`, `project`, `status_class`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_narrow_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_hourly` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT 'user,status_class', `bucket_start`, `user`, `status_class`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_buckets_hourly` GROUP BY 2, 3, 4;
--> statement-breakpoint
INSERT INTO `usage_pair_buckets_daily` (`pair`, `bucket_start`, `a`, `b`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT `pair`, `bucket_start` - `bucket_start` % 86400000, `a`, `b`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_pair_buckets_hourly` GROUP BY 1, 2, 3, 4;
