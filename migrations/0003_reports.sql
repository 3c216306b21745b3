CREATE TABLE `report_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`schedule_id` integer NOT NULL,
	`trigger` text NOT NULL,
	`period_start` integer NOT NULL,
	`period_end` integer NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_error` text,
	`sent_at` integer,
	`subject` text,
	`html` text,
	`text` text,
	`csv` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`schedule_id`) REFERENCES `report_schedules`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `report_deliveries_period_uq` ON `report_deliveries` (`schedule_id`,`period_start`) WHERE "trigger" = 'schedule';--> statement-breakpoint
CREATE INDEX `report_deliveries_due_idx` ON `report_deliveries` (`next_attempt_at`) WHERE status IN ('claimed', 'failed');--> statement-breakpoint
CREATE INDEX `report_deliveries_schedule_idx` ON `report_deliveries` (`schedule_id`,`id`);--> statement-breakpoint
CREATE TABLE `report_schedules` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`kind` text NOT NULL,
	`period` text NOT NULL,
	`send_at` text NOT NULL,
	`timezone` text NOT NULL,
	`recipients` text NOT NULL,
	`filter` text,
	`enabled` integer DEFAULT true NOT NULL,
	`active_from` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `report_schedules_enabled_idx` ON `report_schedules` (`enabled`);