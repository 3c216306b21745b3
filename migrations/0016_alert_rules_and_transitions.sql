-- alert_events becomes one row per transition (fired / resolved) of any rule kind. Its old rows
-- were budget threshold crossings with no resolution, in columns the new shape has no place for;
-- SQLite cannot add NOT NULL columns to a filled table, so the table is recreated empty (a
-- threshold already crossed this period fires once more after the upgrade).
DROP TABLE `alert_events`;--> statement-breakpoint
CREATE TABLE `alert_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`rule_id` integer NOT NULL,
	`subject` text NOT NULL,
	`seq` integer NOT NULL,
	`transition` text NOT NULL,
	`value` text NOT NULL,
	`title` text NOT NULL,
	`body` text NOT NULL,
	`payload` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_error` text,
	`sent_channels` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`sent_at` integer,
	FOREIGN KEY (`rule_id`) REFERENCES `alert_rules`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_events_transition_uq` ON `alert_events` (`rule_id`,`subject`,`seq`);--> statement-breakpoint
CREATE INDEX `alert_events_due_idx` ON `alert_events` (`next_attempt_at`) WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX `alert_events_created_idx` ON `alert_events` (`created_at`);--> statement-breakpoint
ALTER TABLE `alert_rules` ADD `threshold` integer;--> statement-breakpoint
ALTER TABLE `alert_rules` ADD `window_minutes` integer;--> statement-breakpoint
ALTER TABLE `alert_rules` ADD `enabled` integer DEFAULT true NOT NULL;
