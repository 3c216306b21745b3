-- The rollup tables get names that say what they hold: rollup_<family>_<grain>, where the family
-- says which dimensions a row keeps (every_dim, no_key_user, one_dim, two_dims) and the grain is
-- the bucket width (15m, hour, day). A rename only rewrites the schema entry: no row moves, so
-- this is instant at any size. The two unique indexes keep their names (usage_buckets_key_uq,
-- usage_dim_buckets_key_uq): SQLite can rename an index only by rebuilding it.
ALTER TABLE `usage_buckets` RENAME TO `rollup_every_dim_15m`;
--> statement-breakpoint
ALTER TABLE `usage_buckets_hourly` RENAME TO `rollup_every_dim_hour`;
--> statement-breakpoint
ALTER TABLE `usage_buckets_daily` RENAME TO `rollup_every_dim_day`;
--> statement-breakpoint
ALTER TABLE `usage_narrow_buckets` RENAME TO `rollup_no_key_user_15m`;
--> statement-breakpoint
ALTER TABLE `usage_narrow_buckets_hourly` RENAME TO `rollup_no_key_user_hour`;
--> statement-breakpoint
ALTER TABLE `usage_narrow_buckets_daily` RENAME TO `rollup_no_key_user_day`;
--> statement-breakpoint
ALTER TABLE `usage_dim_buckets` RENAME TO `rollup_one_dim_15m`;
--> statement-breakpoint
ALTER TABLE `usage_dim_buckets_hourly` RENAME TO `rollup_one_dim_hour`;
--> statement-breakpoint
ALTER TABLE `usage_dim_buckets_daily` RENAME TO `rollup_one_dim_day`;
--> statement-breakpoint
ALTER TABLE `usage_pair_buckets_hourly` RENAME TO `rollup_two_dims_hour`;
--> statement-breakpoint
ALTER TABLE `usage_pair_buckets_daily` RENAME TO `rollup_two_dims_day`;
