import { defineConfig } from "drizzle-kit";

// drizzle-kit reads the schema and writes plain SQL into migrations/ (committed).
// The server applies pending migrations at start (server/db/open.ts).
export default defineConfig({
  dialect: "sqlite",
  schema: "./server/db/schema.ts",
  out: "./migrations",
});
