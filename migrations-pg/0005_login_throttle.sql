CREATE TABLE "login_throttle" (
	"address" text PRIMARY KEY NOT NULL,
	"attempts" bigint NOT NULL,
	"lockouts" bigint NOT NULL,
	"locked_until" bigint NOT NULL,
	"last" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "login_throttle_last_idx" ON "login_throttle" USING btree ("last");