import { writeFileSync } from "node:fs";
import { openDatabase } from "../../server/db/open.ts";
import { calls } from "../../server/db/schema.ts";
import { renderReport } from "../../server/reports/render-report.tsx";
import { lastCompletePeriod } from "../../server/reports/schedule.ts";
import { PriceBook } from "../../server/prices/price-book.ts";
import { makeCall } from "../factories.ts";
import { addSchedule, tempDb } from "./report-fixtures.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";
import { syncOrm } from "../sync-orm.ts";

// Renders a sample report email from two months of made-up traffic, for the README screenshot:
//   npx tsx test/reports/render-sample.ts spend /tmp/report-email.html
//   chromium --headless --no-sandbox --disable-gpu --window-size=900,1400 \
//     --screenshot=docs/screenshots/report-email.png file:///tmp/report-email.html

const [kind = "spend", out = "/tmp/report-email.html"] = process.argv.slice(2);
const tmp = tempDb();
const db = openDatabase(tmp.path);
const book = await PriceBook.load(db);

// A small deterministic generator, so the screenshot is the same on every run.
let seed = 42;
const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)]!;

const teams = ["search", "ml-platform", "support-bot", "growth", null] as const;
const models = ["meta-llama/Llama-3.3-70B-Instruct", "Qwen/Qwen2.5-Coder-32B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "acme/new-model-preview"] as const;
const keys = ["sk-9f2c…a41b", "sk-77d0…03ce", "sk-1b9e…ff20", "sk-c3a1…9d77", "sk-0e5f…6b12"];
const errors = [
  [429, "rate_limit_exceeded", "Rate limit reached for requests"],
  [500, "server_error", "The server had an error while processing your request"],
  [504, "timeout", "upstream timed out after 120000 ms"],
] as const;

function month(start: number, end: number, n: number, growth: number) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    const model = pick(models);
    const team = pick(teams);
    const failed = rand() < 0.03;
    const [status, errorType, errorMessage] = failed ? pick(errors) : [200, null, null];
    const prompt = Math.floor(1_000 + rand() * 20_000 * growth);
    const completion = Math.floor(200 + rand() * 3_000 * growth);
    const call = makeCall({
      createdAt: start + Math.floor(rand() * (end - start)),
      model,
      team,
      keyId: pick(keys),
      status,
      errorType,
      errorMessage,
      promptTokens: failed ? null : prompt,
      completionTokens: failed ? null : completion,
      totalTokens: failed ? null : prompt + completion,
      usageSource: failed ? "none" : "upstream",
    });
    rows.push({ ...call, costNano: book.costOf(call) });
  }
  for (let i = 0; i < rows.length; i += 500) syncOrm(db).insert(calls).values(rows.slice(i, i + 500)).run();
}

month(Date.parse("2026-09-30T23:00:00Z"), Date.parse("2026-11-01T00:00:00Z"), 36_000, 1);
month(Date.parse("2026-11-01T00:00:00Z"), Date.parse("2026-12-01T00:00:00Z"), 41_000, 1.12);
// A team name with markup, to show it arrives as text.
syncOrm(db).insert(calls).values(makeCall({ createdAt: Date.parse("2026-11-20T10:00:00Z"), team: "<img src=x onerror=alert(1)>", costNano: 1_234_567 })).run();

const schedule = await addSchedule(
  db,
  { name: kind === "spend" ? "Finance monthly" : "On-call digest", kind, period: "monthly", timezone: "Europe/London", recipients: ["finance@example.com"] },
  Date.parse("2026-10-01T00:00:00Z"),
);
const email = await renderReport(db, schedule, lastCompletePeriod(schedule, Date.parse("2026-12-01T09:00:00Z")), "https://tollbooth.example.com");
writeFileSync(out, email.html);
process.stdout.write(`${email.subject}\n\n${email.text}`);
sqliteClient(db).close();
tmp.remove();
