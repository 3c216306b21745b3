import { sql } from "drizzle-orm";
import { connectDatabase } from "../../server/db/connect.ts";
import { tickClaimsFor } from "../../server/job-runs/tick-claims.ts";

// A claimer in a process of its own, for the test that kills one with SIGKILL while it holds a
// tick claim: node --import tsx test/job-runs/hold-tick-claim.ts <DATABASE_URL> <job> <tick>.
// It claims the tick, records that it started the work in tick_work, prints "working" and never
// finishes, as an instance that dies mid-job leaves it.

const [url, job, tick] = process.argv.slice(2) as [string, string, string];
const db = await connectDatabase(url, { poolMax: 1, migrate: false });
const claims = tickClaimsFor(url, { pollMs: 20 });
await claims.runOnce(job, Number(tick), async () => {
  await db.run(sql`INSERT INTO tick_work (tick, claimer) VALUES (${Number(tick)}, ${"child"})`);
  process.stdout.write("working\n");
  setInterval(() => {}, 60_000); // keep the process alive: mid-job, until killed
  await new Promise(() => {});
});
