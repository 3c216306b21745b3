import { isDeepStrictEqual } from "node:util";
import { DateTime } from "luxon";
import { runRollup } from "../jobs/rollup.ts";
import { startOnDataSet } from "./data-set-server.ts";
import { copyWithFreshTail } from "./fresh-tail-copy.ts";
import { intEnv } from "./settings.ts";
import { DATA_END } from "./spend-data.ts";
import type { SpendRow } from "./spend-bench.ts";
import { median, percentile } from "./stats.ts";

// The spend benchmark's fresh-tail scenario: /api/usage when many calls are not rolled up yet.
// A copy of the data set gets BENCH_TAIL_CALLS (100,000) calls past the rollup watermark, created
// in the last BENCH_TAIL_SPAN_MIN minutes (60) before the data set ends; the server (cron off, so
// nothing rolls them up) then answers 30- and 90-day windows up to that end, in turn in a zone
// with a DST change in range (Europe/London), one whose days start at 04:00Z (New York) and a :30
// zone (Kolkata), BENCH_TAIL_REPS (20) times per shape, one request at a time. Target p95 ≤ 50 ms.
// Then the tail is rolled up (timed) and the same rounds run again: every answer must be the
// same, figure for figure (the tail and the rollups are two routes to the same sums), and their
// times are the in-run reference ("baseline" column: p50 / p95 with nothing past the watermark).

const TARGET_P95_MS = 50;
const ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata"];

/** What is asked: a window of `days` local days up to the data set's end, and the rest of the query. */
const SHAPES: [days: number, query: string][] = [
  [90, "group_by=hour,model"],
  [30, "group_by=hour,model"],
  [90, "group_by=hour"],
  [90, "group_by=day,model"],
  [30, "group_by=day,model"],
  [90, "group_by=day,team"],
  [90, "group_by=key,user"],
  [30, "group_by=key,user"],
  [90, "group_by=week,key"],
  [30, "group_by=model,team"],
  [30, "group_by=user&team=search"],
  [90, ""],
];

const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`);

/** /api/usage for `days` days up to DATA_END (now, in the data set's time), from local midnight in `tz`. */
function usagePath(days: number, query: string, tz: string): string {
  const from = DateTime.fromMillis(DATA_END, { zone: tz }).startOf("day").minus({ days });
  const params = new URLSearchParams({ from: from.toUTC().toISO()!, to: new Date(DATA_END).toISOString(), tz });
  return `/api/usage?${params}${query ? `&${query}` : ""}`;
}

export async function runFreshTailScenario(dataPath: string, log: (msg: string) => void): Promise<{ rows: SpendRow[]; notes: string[] }> {
  const calls = intEnv(process.env, "BENCH_TAIL_CALLS", 100_000);
  const spanMin = intEnv(process.env, "BENCH_TAIL_SPAN_MIN", 60);
  const reps = intEnv(process.env, "BENCH_TAIL_REPS", 20);
  const label = `${calls.toLocaleString("en-US")} fresh calls`;
  const copy = await copyWithFreshTail(dataPath, calls, spanMin * 60_000, log);
  const rows: SpendRow[] = [];
  const notes: string[] = [];
  try {
    const server = await startOnDataSet(copy.path, "tail", { CRON_ENABLED: "false", RETENTION_CALLS_DAYS: "36500" });
    try {
      const get = async (path: string) => {
        const t0 = performance.now();
        const res = await fetch(server.url + path, { headers: { authorization: `Bearer ${server.adminToken}` } });
        const text = await res.text();
        const t = performance.now() - t0;
        if (res.status !== 200) throw new Error(`GET ${path} → ${res.status}: ${text.slice(0, 300)}`);
        return { ms: t, body: JSON.parse(text) as unknown };
      };
      // The first query after the calls arrived reads all of them (the per-connection tail cache
      // starts empty); it also warms the page cache. Timed apart from the rounds.
      const first = await get(usagePath(90, "", ZONES[0]!));
      await get(usagePath(30, "group_by=day,model", ZONES[0]!));

      /** `reps` rounds over SHAPES, zones in turn: the times per shape, and the answers by path. */
      const rounds = async (what: string) => {
        const times = SHAPES.map((): number[] => []);
        const answers = new Map<string, unknown>();
        for (let rep = 0; rep < reps; rep++) {
          const tz = ZONES[rep % ZONES.length]!;
          log(`${what}: round ${rep + 1} of ${reps} (${tz})`);
          for (const [i, [days, query]] of SHAPES.entries()) {
            const path = usagePath(days, query, tz);
            const { ms: t, body } = await get(path);
            times[i]!.push(t);
            answers.set(path, body);
          }
        }
        return { times, answers };
      };
      const { times, answers } = await rounds("fresh tail");

      // The same answers from the rollups alone, and their times: the same rounds on the same
      // server with nothing past the watermark, so what the tail adds is measured in one run.
      const t0 = performance.now();
      const rolled = await runRollup(server.db, DATA_END);
      const rollupMs = performance.now() - t0;
      rows.push({
        metric: `rollup of the ${label} (runRollup, one transaction)`,
        p50: ms(rollupMs),
        p95: "—",
        target: "—",
        baseline: "—",
        ratio: `${Math.round(rolled.calls / (rollupMs / 1000)).toLocaleString("en-US")} calls/s`,
        result: "—",
      });
      const rolledUp = await rounds("rolled up");
      const differing = [...answers].filter(([path, body]) => !isDeepStrictEqual(rolledUp.answers.get(path), body)).map(([path]) => path);
      SHAPES.forEach(([days, query], i) => {
        const p95 = percentile(times[i]!, 95);
        const after = rolledUp.times[i]!;
        rows.push({
          metric: `/api/usage with ${label}, ${days} days, ${query || "totals"}`,
          p50: ms(median(times[i]!)),
          p95: ms(p95),
          target: `p95 ≤ ${TARGET_P95_MS} ms`,
          baseline: `${ms(median(after))} / ${ms(percentile(after, 95))} rolled up`,
          ratio: `${(median(times[i]!) / median(after)).toFixed(2)}×`,
          result: p95 <= TARGET_P95_MS ? "PASS" : "MISSED",
        });
      });
      rows.push({
        metric: `first /api/usage after the ${label} arrived (90 days, totals: reads every one of them)`,
        p50: ms(first.ms),
        p95: "—",
        target: "—",
        baseline: "—",
        ratio: "—",
        result: "—",
      });
      notes.push(
        differing.length === 0
          ? `Fresh tail: all ${answers.size} distinct answers with ${label} equal the answers after rolling them up, figure for figure.`
          : `MISMATCH with ${label}: ${differing.length} of ${answers.size} answers changed once the tail was rolled up: ${differing.slice(0, 3).join(", ")}`,
      );
      notes.push(`Fresh tail: ${label} created in the ${spanMin} minutes before the data set's end, ${reps} rounds, zones ${ZONES.join(", ")} in turn.`);
    } finally {
      await server.close();
    }
  } finally {
    copy.remove();
  }
  return { rows, notes };
}
