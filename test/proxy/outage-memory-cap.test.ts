import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../fake-upstream.ts";
import { queryPostgres } from "../pg/database.ts";
import { createTestDatabase, startThrowawayPostgres, type ThrowawayPostgres } from "../pg/throwaway-postgres.ts";
import { startServerProcess, type ServerProcess } from "../server-process.ts";
import { CALLER_KEY, chatBody } from "./proxy-harness.ts";

// A long database outage must not grow the writer's memory with every call: with a small
// RECORDER_MEMORY_MAX_ROWS, real tollbooth processes keep answering calls while the database
// refuses writes (a real PostgreSQL stopped; a SQLite file whose write lock another process
// holds), /healthz shows at most that many rows in memory and the rest waiting in the journal
// only, and once writes work again every answered call is stored exactly once. The same after
// a SIGKILL in the middle of the outage and a restart.

const CAP = 40;
const CALLS_WHILE_DOWN = 15 * CAP;

let upstream: FakeUpstream;
let dir: string;
/** Every tollbooth process started here, killed at the end if a failed test left it running. */
const started: ServerProcess[] = [];
beforeAll(async () => {
  upstream = await startFakeUpstream();
  dir = mkdtempSync(join(tmpdir(), "tollbooth-outage-cap-"));
});
afterAll(async () => {
  for (const proc of started) {
    proc.child.kill("SIGKILL");
    await proc.exited;
  }
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

function start(processEnv: Record<string, string>): ServerProcess {
  const proc = startServerProcess(processEnv);
  started.push(proc);
  return proc;
}

/** Env of a process with a small memory cap and small journal segments (so the outage spans several). */
function env(extra: Record<string, string>): Record<string, string> {
  return {
    UPSTREAM_BASE_URL: upstream.url,
    ADMIN_TOKEN: "outage-cap-test-token-123456",
    RECORDER_MEMORY_MAX_ROWS: String(CAP),
    RECORDER_BATCH_SIZE: "10",
    JOURNAL_SEGMENT_BYTES: String(64 * 1024),
    ...extra,
  };
}

interface Health {
  status: number;
  recorder: { memory_rows: number; memory_peak_rows: number; memory_max_rows: number; journal_only_rows: number } | null;
  journal: { uncommitted: number };
}

async function health(base: string): Promise<Health> {
  const res = await fetch(`${base}/healthz`);
  // The body has a "status" of its own ("ok"/"degraded"): the HTTP status wins.
  const body = (await res.json()) as Omit<Health, "status">;
  return { ...body, status: res.status };
}

async function until<T>(what: string, fn: () => Promise<T | null | false>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Calls from `workers` clients until stopped (JSON and streaming, some failing upstream); the
 * request id of each call whose whole answer arrived is kept. A worker stops when the server dies.
 */
function load(base: string, workers: number) {
  const seen: string[] = [];
  let running = true;
  let n = 0;
  const one = async () => {
    const i = n++;
    const stream = i % 3 === 0;
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CALLER_KEY}`, "content-type": "application/json", ...(i % 10 === 0 ? { "x-fake-scenario": "status-503" } : {}) },
      body: JSON.stringify(chatBody(stream ? { stream: true } : {})),
    });
    const text = await res.text();
    if (stream && res.status === 200 && !text.includes("[DONE]")) return; // cut short: not a complete answer
    seen.push(res.headers.get("x-tollbooth-request-id")!);
  };
  const done = Promise.all(
    Array.from({ length: workers }, async () => {
      try {
        while (running) await one();
      } catch {
        // the server is gone (killed): this worker is done
      }
    }),
  );
  return {
    seen,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** /healthz every 100 ms: the most rows it ever showed in memory. */
function sampleHealth(base: string) {
  const most = { memory: 0, samples: 0 };
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        const h = await health(base);
        if (h.recorder) {
          most.memory = Math.max(most.memory, h.recorder.memory_rows);
          most.samples++;
        }
      } catch {
        return; // the server is gone
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    most,
    async stop() {
      running = false;
      await done;
    },
  };
}

const count = (log: string, text: string) => log.split("\n").filter((line) => line.includes(text)).length;
const CAP_REACHED = "further rows wait in the journal only";
const DRAINED = "rows that waited in the journal only are committed";

/** Rows per request id and the ids of interrupted rows, read from outside the server. */
type Stored = { counts: Map<string, number>; interrupted: Set<string> };

/**
 * Every answered call is stored exactly once; any other row is a call cut by a kill, recorded
 * as interrupted; no request id is stored twice.
 */
function expectExactlyOnce(stored: Stored, answered: string[]): void {
  expect(new Set(answered).size).toBe(answered.length);
  const missing = answered.filter((id) => stored.counts.get(id) !== 1);
  expect(missing, `${missing.length} of ${answered.length} answered calls not stored exactly once`).toEqual([]);
  expect([...stored.counts.values()].filter((n) => n !== 1)).toEqual([]);
  const answeredSet = new Set(answered);
  const extra = [...stored.counts.keys()].filter((id) => !answeredSet.has(id) && !stored.interrupted.has(id));
  expect(extra).toEqual([]);
}

/** Wait until the process has committed everything it holds: nothing in memory, in the journal only, or uncommitted. */
async function drained(proc: ServerProcess): Promise<Health> {
  const base = await proc.url;
  let last: Health | null = null;
  try {
    return await until(
      "every row committed",
      async () => {
        const h = (last = await health(base));
        return h.status === 200 && h.recorder?.memory_rows === 0 && h.recorder.journal_only_rows === 0 && h.journal.uncommitted === 0 ? h : null;
      },
      60_000,
    );
  } catch (err) {
    // What it was waiting on, and the server's own account.
    throw new Error(`${(err as Error).message}; last /healthz: ${JSON.stringify(last)}\n${proc.log().slice(-4000)}`);
  }
}

/**
 * One outage with a running process: load, database down (`down`), many more calls than the cap,
 * then `up`; returns the answered calls and what /healthz showed.
 */
async function outage(proc: ServerProcess, down: () => Promise<void>, up: () => Promise<void>) {
  const base = await proc.url;
  const traffic = load(base, 8);
  const sampler = sampleHealth(base);
  await until("50 calls answered", async () => traffic.seen.length >= 50, 20_000);
  await down();
  await until("/healthz 503", async () => (await health(base)).status === 503, 20_000);
  const before = traffic.seen.length;
  await until(`${CALLS_WHILE_DOWN} calls answered while down`, async () => traffic.seen.length >= before + CALLS_WHILE_DOWN, 60_000);
  // The writer has taken the rows in (past the cap, as places in the journal).
  const spilled = await until(
    "rows past the cap waiting in the journal only",
    async () => {
      const h = await health(base);
      return (h.recorder?.journal_only_rows ?? 0) >= CALLS_WHILE_DOWN - CAP ? h.recorder! : null;
    },
    30_000,
  );
  const duringOutage = { ...sampler.most, spilled };
  await up();
  // Calls keep coming while the spilled rows are read back.
  await until("/healthz 200", async () => (await health(base)).status === 200, 30_000);
  await traffic.stop();
  const after = await drained(proc);
  await sampler.stop();
  return { answered: traffic.seen, duringOutage, after };
}

/** Rows per request id and interrupted ids, from the rows of calls. */
function storedFrom(rows: Array<{ request_id: string; error_type: string | null }>): Stored {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.request_id, (counts.get(r.request_id) ?? 0) + 1);
  return { counts, interrupted: new Set(rows.filter((r) => r.error_type === "interrupted").map((r) => r.request_id)) };
}

/** A database and a way to make it refuse writes and take them again. */
interface Outages {
  processEnv: Record<string, string>;
  journalDir: string;
  down(): Promise<void>;
  up(): Promise<void>;
  stored(): Promise<Stored>;
}

/** A real PostgreSQL of this file's own (the run's shared one must not be stopped under other files), halted and resumed. */
async function postgresOutages(): Promise<Outages> {
  const pg: ThrowawayPostgres = await startThrowawayPostgres();
  stops.push(() => pg.stop());
  const url = (await createTestDatabase(pg.adminUrl, "outage_cap")).url;
  const dataDir = join(dir, "pg-data");
  return {
    processEnv: env({ DATABASE_URL: url, DATA_DIR: dataDir }),
    journalDir: join(dataDir, "journal"),
    down: () => pg.halt(),
    up: () => pg.resume(),
    stored: async () => storedFrom(await queryPostgres(url, "SELECT request_id, error_type FROM calls")),
  };
}

/** A SQLite file whose write lock another process holds while down: every write waits out busy_timeout and fails. */
async function sqliteOutages(): Promise<Outages> {
  const dbPath = join(dir, "sqlite.db");
  let holder: { child: ChildProcess; exited: Promise<unknown> } | null = null;
  return {
    processEnv: env({ DATABASE_URL: dbPath }),
    journalDir: join(dir, "journal"),
    async down() {
      const child = spawn(
        process.execPath,
        ["-e", `const D=require("better-sqlite3");const d=new D(${JSON.stringify(dbPath)});d.exec("BEGIN IMMEDIATE");process.stdout.write("locked\\n");setInterval(()=>{},1e6)`],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      holder = { child, exited: new Promise((r) => child.once("exit", r)) };
      await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
    },
    async up() {
      holder?.child.kill("SIGKILL");
      await holder?.exited;
      holder = null;
    },
    async stored() {
      const db = new Database(dbPath, { readonly: true });
      const rows = db.prepare("SELECT request_id, error_type FROM calls").all() as Array<{ request_id: string; error_type: string | null }>;
      db.close();
      return storedFrom(rows);
    },
  };
}

/** Servers the cases started, stopped after the file. */
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe.each([
  ["PostgreSQL down while serving (a real server halted)", postgresOutages],
  ["SQLite refusing writes (its write lock held by another process)", sqliteOutages],
])("%s, with a small RECORDER_MEMORY_MAX_ROWS", (_, outages) => {
  it("holds at most the cap in memory through the outage, then stores every answered call once; after a SIGKILL mid-outage too", async () => {
    const db = await outages();
    const first = start(db.processEnv);
    const base = await first.url;

    const run = await outage(first, db.down, db.up);
    expect(run.duringOutage.samples).toBeGreaterThan(10);
    expect(run.duringOutage.memory).toBeLessThanOrEqual(CAP);
    expect(run.duringOutage.spilled.memory_rows).toBeLessThanOrEqual(CAP);
    // The most the writer ever held, over the outage and the read back.
    expect(run.after.recorder!.memory_max_rows).toBe(CAP);
    expect(run.after.recorder!.memory_peak_rows).toBeLessThanOrEqual(CAP);
    expectExactlyOnce(await db.stored(), run.answered);
    expect(count(first.log(), CAP_REACHED), first.log()).toBe(1);
    expect(count(first.log(), DRAINED), first.log()).toBe(1);

    // Down again, and the process is killed while rows wait in the journal only.
    const traffic = load(base, 8);
    await until("50 calls answered", async () => traffic.seen.length >= 50, 20_000);
    await db.down();
    await until("/healthz 503", async () => (await health(base)).status === 503, 20_000);
    const before = traffic.seen.length;
    await until(`${CALLS_WHILE_DOWN} calls answered while down`, async () => traffic.seen.length >= before + CALLS_WHILE_DOWN, 60_000);
    await until("rows in the journal only", async () => ((await health(base)).recorder?.journal_only_rows ?? 0) > CAP, 30_000);
    first.child.kill("SIGKILL");
    await first.exited;
    await traffic.stop();

    await db.up();
    const second = start(db.processEnv);
    // The dead process's journal is replayed before the new one listens.
    await second.url;
    expect(second.log()).toMatch(/replayed \d+ call rows from an earlier process's journal/);
    await drained(second);
    expectExactlyOnce(await db.stored(), [...run.answered, ...traffic.seen]);
    second.child.kill("SIGTERM");
    expect(await second.exited, second.log()).toBe(0);
    expect(readdirSync(db.journalDir).filter((f) => f.endsWith(".jsonl"))).toEqual([]);
  }, 240_000);
});
