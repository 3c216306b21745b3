import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sqliteClient } from "../server/db/sqlite.ts";
import { loadConfig } from "../server/config.ts";
import { startServer } from "../server/start.ts";
import { createKey } from "../server/keys/keys-store.ts";
import { createBudget } from "../server/budgets/budgets-store.ts";
import { serveParent } from "./child-rpc.ts";
import type { MemorySample } from "./memory.ts";

// The real tollbooth server (default config apart from logging and the upstream) in its own
// process, so its event loop, heap and RSS are its own: the memory samples below are exactly
// the server's, and the load generator's work never shows up as proxy latency.

const upstream = process.env.BENCH_UPSTREAM_URL;
if (!upstream) throw new Error("BENCH_UPSTREAM_URL is required");
const dir = mkdtempSync(join(tmpdir(), "tollbooth-bench-"));
const server = await startServer(
  loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_URL: join(dir, "tollbooth.db"),
    ADMIN_TOKEN: "bench-admin-token-0123456789",
    LOG_LEVEL: "error",
    LOG_BODIES: "errors",
    UPSTREAM_BASE_URL: upstream,
    // The observability variants (observability-variants.ts): metrics off, or tracing on.
    ...(process.env.BENCH_METRICS === "false" ? { METRICS_ENABLED: "false" } : {}),
    ...(process.env.BENCH_OTEL_URL ? { OTEL_EXPORTER_OTLP_ENDPOINT: process.env.BENCH_OTEL_URL } : {}),
    // Both kinds of caller: the scenarios' own keys pass through; spend-overhead.ts also calls
    // with a tollbooth key that has limits and a hard budget.
    AUTH_MODE: "both",
    UPSTREAM_API_KEY: "nsk-bench-upstream-not-a-real-token",
  }),
);
const { secret: spendKey } = await createKey(server.db, { name: "bench", team: "bench-keys", project: null, models: null, rpm: 1_000_000_000, tpm: 1_000_000_000, expiresAt: null }, Date.now());
await createBudget(server.db, { scope: "team", target: "bench-keys", amountNano: 9_000_000 * 1_000_000_000, period: "monthly", timezone: "UTC", hard: true, softThresholds: [] }, Date.now());
// The writer thread polls for key and budget changes every 250 ms; wait until it has told the proxy.
await new Promise((r) => setTimeout(r, 1_000));

let samples: MemorySample[] = [];
let sampler: NodeJS.Timeout | null = null;

function sample(t0: number): void {
  const m = process.memoryUsage();
  samples.push({ t: (performance.now() - t0) / 1000, rss: m.rss, heapUsed: m.heapUsed, recorded: server.recorder.recorded, pending: server.recorder.pending });
}

serveParent({ url: server.url, spendKey }, {
  /** Wait until every finished call is committed; return the calls table's row count. */
  settle: async () => {
    const deadline = Date.now() + 30_000;
    while ((server.recorder.pending > 0 || server.recorder.openCalls > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await server.recorder.flushed();
    const row = sqliteClient(server.db).prepare("SELECT count(*) AS n FROM calls").get() as { n: number };
    return { rows: row.n, recorded: server.recorder.recorded, pending: server.recorder.pending, open: server.recorder.openCalls };
  },
  "sample-start": () => {
    samples = [];
    const t0 = performance.now();
    sample(t0);
    sampler = setInterval(() => sample(t0), 1000);
  },
  "sample-stop": () => {
    if (sampler) clearInterval(sampler);
    sampler = null;
    return samples;
  },
  /**
   * Heap still reachable after a full GC (the parent starts this child with --expose-gc): the
   * leak test, called with the server idle before and after the soak, never during it.
   */
  "live-heap": () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error("live-heap needs --expose-gc");
    gc();
    return process.memoryUsage().heapUsed;
  },
  close: async () => {
    if (sampler) clearInterval(sampler);
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  },
});
