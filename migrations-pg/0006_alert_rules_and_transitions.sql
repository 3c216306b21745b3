-- alert_events becomes one row per transition of any rule kind; its old rows (threshold
-- crossings, no resolution) have no place in the new columns and are dropped, as on SQLite.
DELETE FROM "alert_events";--> statement-breakpoint
DROP INDEX "alert_events_crossing_uq";--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "subject" text NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "seq" bigint NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "transition" text NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "value" text NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "title" text NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "body" text NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "payload" text NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_events" ADD COLUMN "sent_channels" text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD COLUMN "threshold" bigint;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD COLUMN "window_minutes" bigint;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD COLUMN "enabled" boolean DEFAULT true NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "alert_events_transition_uq" ON "alert_events" USING btree ("rule_id","subject","seq");--> statement-breakpoint
CREATE INDEX "alert_events_created_idx" ON "alert_events" USING btree ("created_at");--> statement-breakpoint
ALTER TABLE "alert_events" DROP COLUMN "budget_id";--> statement-breakpoint
ALTER TABLE "alert_events" DROP COLUMN "period_start";--> statement-breakpoint
ALTER TABLE "alert_events" DROP COLUMN "threshold";--> statement-breakpoint
ALTER TABLE "alert_events" DROP COLUMN "spent_nano";