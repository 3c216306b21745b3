CREATE TABLE "alert_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"rule_id" bigint NOT NULL,
	"budget_id" bigint NOT NULL,
	"period_start" bigint NOT NULL,
	"threshold" bigint NOT NULL,
	"spent_nano" bigint NOT NULL,
	"status" text NOT NULL,
	"attempts" bigint DEFAULT 0 NOT NULL,
	"next_attempt_at" bigint,
	"last_error" text,
	"created_at" bigint NOT NULL,
	"sent_at" bigint
);
--> statement-breakpoint
CREATE TABLE "alert_rules" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"budget_id" bigint,
	"channels" text NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "budget_leases" (
	"budget_id" bigint NOT NULL,
	"instance" text NOT NULL,
	"period_start" bigint NOT NULL,
	"held_nano" bigint NOT NULL,
	"heartbeat_at" bigint NOT NULL,
	CONSTRAINT "budget_leases_budget_id_instance_period_start_pk" PRIMARY KEY("budget_id","instance","period_start")
);
--> statement-breakpoint
CREATE TABLE "budgets" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"scope" text NOT NULL,
	"target" text NOT NULL,
	"amount_nano" bigint NOT NULL,
	"period" text NOT NULL,
	"timezone" text NOT NULL,
	"soft_thresholds" text NOT NULL,
	"hard" boolean DEFAULT false NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tollbooth_key_secrets" (
	"hash" text PRIMARY KEY NOT NULL,
	"key_id" text NOT NULL,
	"prefix" text NOT NULL,
	"retires_at" bigint,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tollbooth_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"team" text,
	"project" text,
	"models" text,
	"rpm" bigint,
	"tpm" bigint,
	"expires_at" bigint,
	"revoked_at" bigint,
	"last_used_at" bigint,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_rule_id_alert_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."alert_rules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "alert_rules" ADD CONSTRAINT "alert_rules_budget_id_budgets_id_fk" FOREIGN KEY ("budget_id") REFERENCES "public"."budgets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "budget_leases" ADD CONSTRAINT "budget_leases_budget_id_budgets_id_fk" FOREIGN KEY ("budget_id") REFERENCES "public"."budgets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tollbooth_key_secrets" ADD CONSTRAINT "tollbooth_key_secrets_key_id_tollbooth_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."tollbooth_keys"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "alert_events_crossing_uq" ON "alert_events" USING btree ("rule_id","budget_id","period_start","threshold");--> statement-breakpoint
CREATE INDEX "alert_events_due_idx" ON "alert_events" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "tollbooth_key_secrets_key_idx" ON "tollbooth_key_secrets" USING btree ("key_id");