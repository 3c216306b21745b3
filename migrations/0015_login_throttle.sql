CREATE TABLE `login_throttle` (
	`address` text PRIMARY KEY NOT NULL,
	`attempts` integer NOT NULL,
	`lockouts` integer NOT NULL,
	`locked_until` integer NOT NULL,
	`last` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `login_throttle_last_idx` ON `login_throttle` (`last`);