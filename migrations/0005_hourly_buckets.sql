CREATE TABLE `usage_buckets_daily` (
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
);
--> statement-breakpoint
CREATE TABLE `usage_buckets_hourly` (
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
);
--> statement-breakpoint
CREATE TABLE `usage_dim_buckets_daily` (
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
);
--> statement-breakpoint
CREATE TABLE `usage_dim_buckets_hourly` (
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
);
