import { defineConfig } from "drizzle-kit";

// PostgreSQL's twin of drizzle.config.ts: drizzle-kit reads server/db/schema-pg.ts and writes
// plain SQL into migrations-pg/ (committed), which server/db/postgres.ts applies at start under
// an advisory lock. Steps Drizzle cannot declare (partitioning calls by month) are hand-written
// migrations made with `npm run db:generate:pg -- --custom`.
export default defineConfig({
  dialect: "postgresql",
  schema: "./server/db/schema-pg.ts",
  out: "./migrations-pg",
});
