CREATE TABLE "key_names" (
	"key_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "job_runs_job_idx" ON "job_runs" USING btree ("job","id");