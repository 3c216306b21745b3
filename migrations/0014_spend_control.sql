CREATE TABLE `alert_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`rule_id` integer NOT NULL,
	`budget_id` integer NOT NULL,
	`period_start` integer NOT NULL,
	`threshold` integer NOT NULL,
	`spent_nano` integer NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`sent_at` integer,
	FOREIGN KEY (`rule_id`) REFERENCES `alert_rules`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_events_crossing_uq` ON `alert_events` (`rule_id`,`budget_id`,`period_start`,`threshold`);--> statement-breakpoint
CREATE INDEX `alert_events_due_idx` ON `alert_events` (`next_attempt_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE TABLE `alert_rules` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`budget_id` integer,
	`channels` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`budget_id`) REFERENCES `budgets`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `budget_leases` (
	`budget_id` integer NOT NULL,
	`instance` text NOT NULL,
	`period_start` integer NOT NULL,
	`held_nano` integer NOT NULL,
	`heartbeat_at` integer NOT NULL,
	PRIMARY KEY(`budget_id`, `instance`, `period_start`),
	FOREIGN KEY (`budget_id`) REFERENCES `budgets`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `budgets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`scope` text NOT NULL,
	`target` text NOT NULL,
	`amount_nano` integer NOT NULL,
	`period` text NOT NULL,
	`timezone` text NOT NULL,
	`soft_thresholds` text NOT NULL,
	`hard` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tollbooth_key_secrets` (
	`hash` text PRIMARY KEY NOT NULL,
	`key_id` text NOT NULL,
	`prefix` text NOT NULL,
	`retires_at` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`key_id`) REFERENCES `tollbooth_keys`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `tollbooth_key_secrets_key_idx` ON `tollbooth_key_secrets` (`key_id`);--> statement-breakpoint
CREATE TABLE `tollbooth_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`team` text,
	`project` text,
	`models` text,
	`rpm` integer,
	`tpm` integer,
	`expires_at` integer,
	`revoked_at` integer,
	`last_used_at` integer,
	`created_at` integer NOT NULL
);
