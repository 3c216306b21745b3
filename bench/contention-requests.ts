import type { LoopRequest } from "./http-loop-child.ts";
import { DATA_END, DATA_START } from "./spend-data.ts";

// What the contention benchmark's dashboard user asks for, and when the server's rollup runs.

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const DAY_MS = 86_400_000;

/**
 * The heaviest dashboard pages and /api queries on the spend data set, in the order one client
 * goes round them. The /api queries and the spend page name dates inside the data set (it ends
 * 2026-11-01), so they read the same rows whatever the date. The usage and failures pages only
 * offer ranges ending now: they read less of the data set as the calendar moves past it.
 */
export function dashboardRequests(adminToken: string, sessionCookie: string): LoopRequest[] {
  const api = { authorization: `Bearer ${adminToken}` };
  const page = { cookie: sessionCookie };
  const days90 = `from=${day(DATA_START)}&to=${day(DATA_END)}`;
  const days30 = `from=${day(DATA_END - 30 * DAY_MS)}&to=${day(DATA_END)}`;
  const october = `period=custom&from=${day(DATA_END - 31 * DAY_MS)}&to=${day(DATA_END - DAY_MS)}`;
  return [
    { label: "GET /api/usage 90 d, group_by=hour,model", path: `/api/usage?${days90}&group_by=hour,model`, headers: api },
    { label: "GET /api/usage 90 d, group_by=key,user", path: `/api/usage?${days90}&group_by=key,user`, headers: api },
    { label: "GET /api/usage 90 d, group_by=day,team", path: `/api/usage?${days90}&group_by=day,team`, headers: api },
    { label: "GET /api/usage 30 d, group_by=day,model", path: `/api/usage?${days30}&group_by=day,model`, headers: api },
    { label: "GET /api/requests?q=timeout (no match, all time)", path: "/api/requests?q=timeout", headers: api },
    { label: "GET /spend October by team then model, vs September", path: `/spend?${october}&by=team&then=model`, headers: page },
    { label: "GET /usage?range=90d&granularity=day (ends today)", path: "/usage?range=90d&granularity=day", headers: page },
    { label: "GET /requests/failed?range=30d (ends today)", path: "/requests/failed?range=30d", headers: page },
  ];
}

/**
 * ROLLUP_CRON for a phase starting at `startAt` (epoch ms) and lasting `seconds`: a tick every
 * `every` seconds from one second into the phase, as a list of seconds of the minute (node-cron's
 * optional sixth field). The server has no "run now" endpoint; a schedule is the one public way
 * to start its own rollup, and pinning the ticks inside the phase keeps the first run (which
 * rolls up every call the earlier phases recorded) out of the warm-up.
 */
export function rollupCronDuring(startAt: number, seconds: number, every: number): string {
  const marks = new Set<number>();
  for (let t = startAt + 1000; t < startAt + seconds * 1000 && marks.size < 60; t += every * 1000) marks.add(Math.floor(t / 1000) % 60);
  if (marks.size === 0) marks.add(Math.floor((startAt + 1000) / 1000) % 60);
  return `${[...marks].sort((a, b) => a - b).join(",")} * * * * *`;
}

/** Every other job's schedule during the benchmark: once a year, i.e. not during it. */
export const NEVER_CRON = "0 0 1 1 *";
