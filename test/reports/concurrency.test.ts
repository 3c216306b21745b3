import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ReportsRunResult } from "../../jobs/reports.ts";
import { addSchedule, at, tempDb, type TempDb } from "./report-fixtures.ts";
import { startSmtpSink, type SmtpSink } from "./smtp-sink.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";

// Two tollbooth processes on one database never send a report twice (docs/architecture.md, "Each
// report period is sent once"; LiteLLM #3597 sent duplicates). Two real OS processes run the
// reports tick on the same SQLite file at the same moment; the SMTP server counts what arrives.

const run = promisify(execFile);
const script = fileURLToPath(new URL("./tick-process.ts", import.meta.url));

let sink: SmtpSink;
let tmp: TempDb;
beforeAll(async () => {
  sink = await startSmtpSink();
  tmp = tempDb();
});
afterAll(async () => {
  await sink.close();
  tmp.remove();
});

describe("exactly once under two concurrent runners", () => {
  it("two processes ticking at once send every due period exactly once between them", async () => {
    const SCHEDULES = 6;
    // Migrated and filled before the race, so the runners do not also race to migrate.
    const db = tmp.open();
    for (let i = 0; i < SCHEDULES; i++) await addSchedule(db, { name: `race ${i}`, period: "daily", send_at: "06:00" }, at("2026-11-01T12:00:00Z"));
    sqliteClient(db).close();

    const now = "2026-11-05T06:00:00Z"; // 3 due periods per schedule (2–4 Nov), 1 Nov skipped
    const startAt = String(Date.now() + 2_500); // both processes are up and waiting by then
    const runner = () => run(process.execPath, ["--import", "tsx", script, tmp.path, now, sink.url, startAt], { timeout: 60_000 });
    const outputs = await Promise.all([runner(), runner()]);
    const results = outputs.map((o) => JSON.parse(o.stdout) as ReportsRunResult);

    const expected = SCHEDULES * 3;
    expect(results[0]!.sent + results[1]!.sent, JSON.stringify(results)).toBe(expected);
    expect(results[0]!.skipped + results[1]!.skipped).toBe(SCHEDULES);
    expect(sink.messages).toHaveLength(expected);
    const keys = sink.messages.map((m) => `${/schedule "(.+)"/.exec(m.text ?? "")?.[1]} ${m.subject}`);
    expect(new Set(keys).size, "no (schedule, period) twice").toBe(expected);
    // Both runners did work, so the claims really were contested.
    expect(results.every((r) => r.sent + r.lostRaces > 0), JSON.stringify(results)).toBe(true);

    const check = tmp.open();
    const counts = sqliteClient(check)
      .prepare("SELECT status, COUNT(*) AS n FROM report_deliveries GROUP BY status ORDER BY status")
      .all() as { status: string; n: number }[];
    sqliteClient(check).close();
    expect(counts).toEqual([
      { status: "sent", n: expected },
      { status: "skipped", n: SCHEDULES },
    ]);
  });
});
