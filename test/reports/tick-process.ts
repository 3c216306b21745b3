import { openDatabase } from "../../server/db/open.ts";
import { quietLog, tick } from "./report-fixtures.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";

// One reports runner as its own OS process (for the two-runner race in concurrency.test.ts):
// node --import tsx tick-process.ts <db path> <now ISO> <smtp url> <start at, epoch ms>
// Waits until the start time so two processes begin their tick together; prints the result.

const [dbPath, nowIso, smtpUrl, startAt] = process.argv.slice(2);
const db = openDatabase(dbPath!);
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
const result = await tick(db, Date.parse(nowIso!), smtpUrl, quietLog);
sqliteClient(db).close();
process.stdout.write(JSON.stringify(result));
