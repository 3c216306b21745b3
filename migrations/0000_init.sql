CREATE TABLE `call_bodies` (
	`call_id` integer PRIMARY KEY NOT NULL,
	`request_body` text,
	`response_body` text,
	`truncated` integer DEFAULT false NOT NULL,
	FOREIGN KEY (`call_id`) REFERENCES `calls`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `calls` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`model` text,
	`endpoint` text NOT NULL,
	`stream` integer DEFAULT false NOT NULL,
	`status` integer NOT NULL,
	`error_type` text,
	`error_message` text,
	`prompt_tokens` integer,
	`completion_tokens` integer,
	`total_tokens` integer,
	`usage_source` text NOT NULL,
	`duration_ms` integer NOT NULL,
	`ttft_ms` integer,
	`key_id` text,
	`team` text,
	`project` text,
	`user` text,
	`upstream_request_id` text,
	`cost_nano` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `calls_request_id_uq` ON `calls` (`request_id`);--> statement-breakpoint
CREATE INDEX `calls_created_idx` ON `calls` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `calls_model_created_idx` ON `calls` (`model`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `calls_team_created_idx` ON `calls` (`team`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `calls_key_created_idx` ON `calls` (`key_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `calls_failed_created_idx` ON `calls` (`created_at`,`id`) WHERE status >= 400 OR error_type IS NOT NULL;--> statement-breakpoint
CREATE TABLE `job_runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`job` text NOT NULL,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`rows` integer,
	`error` text
);
--> statement-breakpoint
CREATE INDEX `job_runs_started_idx` ON `job_runs` (`started_at`);--> statement-breakpoint
CREATE TABLE `job_state` (
	`name` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `prices` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`model` text NOT NULL,
	`input_micro_per_mtok` integer NOT NULL,
	`output_micro_per_mtok` integer NOT NULL,
	`currency` text DEFAULT 'USD' NOT NULL,
	`effective_from` integer NOT NULL,
	`source` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `prices_model_from_idx` ON `prices` (`model`,`effective_from`);--> statement-breakpoint
CREATE TABLE `usage_buckets` (
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
	`duration_ms_sum` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `usage_buckets_key_uq` ON `usage_buckets` (`bucket_start`,`model`,`key_id`,`team`,`project`,`user`,`status_class`);