-- The narrow rollups of 0008 as WITHOUT ROWID tables (Drizzle cannot declare them; see 0006),
-- filled from usage_buckets, the 15-minute truth kept forever (retention deletes raw calls, never
-- buckets): a database rolled up before this migration is served by the narrow family at once and
-- to the nano-dollar, each narrow row being the exact sum of its all-dimensions rows over key_id
-- and user. 0008 just created the tables, so they are empty and are simply recreated.
-- PostgreSQL needs nothing here (a primary key is enough).
DROP TABLE `usage_narrow_buckets`;
--> statement-breakpoint
CREATE TABLE `usage_narrow_buckets` (
	`bucket_start` integer NOT NULL,
	`model` text DEFAULT '' NOT NULL,
	`team` text DEFAULT '' NOT NULL,
	`project` text DEFAULT '' NOT NULL,
	`status_class` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`cost_nano` integer DEFAULT 0 NOT NULL,
	`unpriced_requests` integer DEFAULT 0 NOT NULL,
	`duration_ms_sum` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`bucket_start`, `model`, `team`, `project`, `status_class`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `usage_narrow_buckets` (`bucket_start`, `model`, `team`, `project`, `status_class`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT `bucket_start`, `model`, `team`, `project`, `status_class`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_buckets` GROUP BY 1, 2, 3, 4, 5;
--> statement-breakpoint
DROP TABLE `usage_narrow_buckets_hourly`;
--> statement-breakpoint
CREATE TABLE `usage_narrow_buckets_hourly` (
	`bucket_start` integer NOT NULL,
	`model` text DEFAULT '' NOT NULL,
	`team` text DEFAULT '' NOT NULL,
	`project` text DEFAULT '' NOT NULL,
	`status_class` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`cost_nano` integer DEFAULT 0 NOT NULL,
	`unpriced_requests` integer DEFAULT 0 NOT NULL,
	`duration_ms_sum` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`bucket_start`, `model`, `team`, `project`, `status_class`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `usage_narrow_buckets_hourly` (`bucket_start`, `model`, `team`, `project`, `status_class`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT `bucket_start` - `bucket_start` % 3600000, `model`, `team`, `project`, `status_class`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_buckets` GROUP BY 1, 2, 3, 4, 5;
--> statement-breakpoint
DROP TABLE `usage_narrow_buckets_daily`;
--> statement-breakpoint
CREATE TABLE `usage_narrow_buckets_daily` (
	`bucket_start` integer NOT NULL,
	`model` text DEFAULT '' NOT NULL,
	`team` text DEFAULT '' NOT NULL,
	`project` text DEFAULT '' NOT NULL,
	`status_class` text NOT NULL,
	`requests` integer DEFAULT 0 NOT NULL,
	`errors` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	`cost_nano` integer DEFAULT 0 NOT NULL,
	`unpriced_requests` integer DEFAULT 0 NOT NULL,
	`duration_ms_sum` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`bucket_start`, `model`, `team`, `project`, `status_class`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `usage_narrow_buckets_daily` (`bucket_start`, `model`, `team`, `project`, `status_class`, `requests`, `errors`, `prompt_tokens`, `completion_tokens`, `cost_nano`, `unpriced_requests`, `duration_ms_sum`)
SELECT `bucket_start` - `bucket_start` % 86400000, `model`, `team`, `project`, `status_class`, SUM(`requests`), SUM(`errors`), SUM(`prompt_tokens`), SUM(`completion_tokens`), SUM(`cost_nano`), SUM(`unpriced_requests`), SUM(`duration_ms_sum`)
FROM `usage_buckets` GROUP BY 1, 2, 3, 4, 5;
