DROP INDEX `calls_failed_created_idx`;--> statement-breakpoint
CREATE INDEX `calls_failed_created_idx` ON `calls` (`created_at`,`id`,`error_message`) WHERE status >= 400 OR error_type IS NOT NULL;