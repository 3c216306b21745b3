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
);
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
);
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
);
