-- The coarser rollup levels of 0005 as WITHOUT ROWID tables (Drizzle cannot declare them, and
-- drizzle-kit generate --custom is its way for hand-written SQL; the snapshot, and so the schema
-- diff, is unchanged). Rows then live in the primary key's B-tree: a range scan by bucket_start
-- reads the measures next to the key instead of looking each row up by rowid, and an upsert
-- writes one B-tree instead of two. PostgreSQL needs nothing here (a primary key is enough).
--
-- Each table is filled from its 15-minute twin, the truth kept forever (retention deletes raw
-- calls, never buckets), so a database rolled up before this migration is served by the new
-- levels at once and to the nano-dollar: an hour or a day is exactly the sum of its buckets.
CREATE TABLE `__new_usage_buckets_hourly` (
	`bucket_start` integer NOT NULL,
	`model` text DEFAULT '' NOT NULL,
	`key_id` text DEFAULT '' NOT NULL,
	`team` text DEFAULT '' NOT NULL,
	`project` text DEFAULT '' NOT NULL,
	`user` text DEFAULT '' NOT NULL,
	`status_class` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`cost_nano` integer DEFAULT 0 NOT NULL,
	`unpriced_requests` integer DEFAULT 0 NOT NULL,
	`duration_ms_sum` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`bucket_start`, `model`, `key_id`, `team`, `project`, `user`, `status_class`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_usage_buckets_hourly` (`bucket_start`, `model`, `key_id`, `team`, `project`, `user`, `status_class`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT `bucket_start` - `bucket_start` % 3600000, `model`, `key_id`, `team`, `project`, `user`, `status_class`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_buckets` GROUP BY 1, 2, 3, 4, 5, 6, 7;
--> statement-breakpoint
DROP TABLE `usage_buckets_hourly`;
--> statement-breakpoint
ALTER TABLE `__new_usage_buckets_hourly` RENAME TO `usage_buckets_hourly`;
--> statement-breakpoint
CREATE TABLE `__new_usage_dim_buckets_hourly` (
	`dim` text NOT NULL,
	`bucket_start` integer NOT NULL,
	`value` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`cost_nano` integer DEFAULT 0 NOT NULL,
	`unpriced_requests` integer DEFAULT 0 NOT NULL,
	`duration_ms_sum` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`dim`, `bucket_start`, `value`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_usage_dim_buckets_hourly` (`dim`, `bucket_start`, `value`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT `dim`, `bucket_start` - `bucket_start` % 3600000, `value`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_dim_buckets` GROUP BY 1, 2, 3;
--> statement-breakpoint
DROP TABLE `usage_dim_buckets_hourly`;
--> statement-breakpoint
ALTER TABLE `__new_usage_dim_buckets_hourly` RENAME TO `usage_dim_buckets_hourly`;
--> statement-breakpoint
CREATE TABLE `__new_usage_buckets_daily` (
	`bucket_start` integer NOT NULL,
	`model` text DEFAULT '' NOT NULL,
	`key_id` text DEFAULT '' NOT NULL,
	`team` text DEFAULT '' NOT NULL,
	`project` text DEFAULT '' NOT NULL,
	`user` text DEFAULT '' NOT NULL,
	`status_class` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`cost_nano` integer DEFAULT 0 NOT NULL,
	`unpriced_requests` integer DEFAULT 0 NOT NULL,
	`duration_ms_sum` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`bucket_start`, `model`, `key_id`, `team`, `project`, `user`, `status_class`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_usage_buckets_daily` (`bucket_start`, `model`, `key_id`, `team`, `project`, `user`, `status_class`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT `bucket_start` - `bucket_start` % 86400000, `model`, `key_id`, `team`, `project`, `user`, `status_class`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_buckets` GROUP BY 1, 2, 3, 4, 5, 6, 7;
--> statement-breakpoint
DROP TABLE `usage_buckets_daily`;
--> statement-breakpoint
ALTER TABLE `__new_usage_buckets_daily` RENAME TO `usage_buckets_daily`;
--> statement-breakpoint
CREATE TABLE `__new_usage_dim_buckets_daily` (
	`dim` text NOT NULL,
	`bucket_start` integer NOT NULL,
	`value` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`cost_nano` integer DEFAULT 0 NOT NULL,
	`unpriced_requests` integer DEFAULT 0 NOT NULL,
	`duration_ms_sum` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`dim`, `bucket_start`, `value`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_usage_dim_buckets_daily` (`dim`, `bucket_start`, `value`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT `dim`, `bucket_start` - `bucket_start` % 86400000, `value`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_dim_buckets` GROUP BY 1, 2, 3;
--> statement-breakpoint
DROP TABLE `usage_dim_buckets_daily`;
--> statement-breakpoint
ALTER TABLE `__new_usage_dim_buckets_daily` RENAME TO `usage_dim_buckets_daily`;
