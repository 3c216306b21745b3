import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Db } from "../../server/db/open.ts";
import { createLogger } from "../../server/log.ts";
import { Recorder } from "../../server/recorder/recorder.ts";
import { PriceBook } from "../../server/prices/price-book.ts";
import { DEMO_MODELS, UNPRICED_MODEL } from "../../server/demo/catalog.ts";
import { generateHistory, seedHistory, type SeedResult } from "../../server/demo/history.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 18, 15, 30); // a Wednesday afternoon in London (BST)

describe("demo history", () => {
  let dir: string;
  let db: Db;
  let seeded: SeedResult;
  const q = <T>(sql: string) => sqliteClient(db).prepare(sql).get() as T;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tollbooth-demo-history-"));
    db = openDatabase(join(dir, "demo.db"));
    const prices = await PriceBook.load(db);
    const recorder = new Recorder(db, { batchSize: 500, flushMs: 50, log: createLogger("error"), priceCall: (c) => prices.costOf(c) });
    // A tenth of the full volume keeps the test quick; the shape is the same.
    seeded = await seedHistory(recorder, { seed: 7, now: NOW, days: 90, timeoutMs: 20_000, volume: 0.1 });
  }, 90_000);
  afterAll(() => {
    sqliteClient(db).close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes every generated call through the recorder, covering 90 days up to now", () => {
    const row = q<{ n: number; first: number; last: number }>("SELECT COUNT(*) n, MIN(created_at) first, MAX(created_at) last FROM calls");
    expect(row.n).toBe(seeded.calls);
    expect(row.n).toBeGreaterThan(15_000);
    expect(row.first - (NOW - 90 * DAY)).toBeLessThan(DAY);
    expect(row.last).toBeLessThanOrEqual(NOW);
    expect(NOW - row.last).toBeLessThan(3_600_000);
    const days = q<{ d: number }>("SELECT COUNT(DISTINCT created_at / 86400000) d FROM calls").d;
    expect(days).toBeGreaterThanOrEqual(90);
  });

  it("spreads calls over several models, teams, projects, users and keys", () => {
    const distinct = q<Record<string, number>>(
      "SELECT COUNT(DISTINCT model) models, COUNT(DISTINCT team) teams, COUNT(DISTINCT project) projects, COUNT(DISTINCT user) users, COUNT(DISTINCT key_id) keys FROM calls",
    );
    expect(distinct.models).toBe(DEMO_MODELS.length);
    expect(distinct.teams).toBeGreaterThanOrEqual(4);
    expect(distinct.teams).toBeLessThanOrEqual(6);
    expect(distinct.projects).toBeGreaterThanOrEqual(8);
    expect(distinct.users).toBeGreaterThanOrEqual(8);
    expect(distinct.keys).toBeGreaterThanOrEqual(8);
    expect(distinct.keys).toBeLessThanOrEqual(12);
    // Keys are stored as fingerprints, never as the key itself.
    expect(q<{ n: number }>("SELECT COUNT(*) n FROM calls WHERE key_id LIKE 'sk-%' OR key_id NOT LIKE '%..%'").n).toBe(0);
    // Mostly the two Llamas.
    const llamas = q<{ share: number }>("SELECT AVG(model IN ('meta-llama/Llama-3.1-8B-Instruct', 'meta-llama/Llama-3.3-70B-Instruct')) share FROM calls").share;
    expect(llamas).toBeGreaterThan(0.6);
  });

  it("has a few percent of failures of every kind, and ~60 % streams", () => {
    const share = q<{ errors: number; streams: number }>("SELECT AVG(status >= 400 OR error_type IS NOT NULL) errors, AVG(stream) streams FROM calls");
    expect(share.errors).toBeGreaterThan(0.02);
    expect(share.errors).toBeLessThan(0.06);
    expect(share.streams).toBeGreaterThan(0.5);
    expect(share.streams).toBeLessThan(0.7);
    const kinds = (sqliteClient(db).prepare("SELECT DISTINCT status || ' ' || COALESCE(error_type, '') k FROM calls").pluck().all() as string[]).sort();
    expect(kinds).toEqual(
      expect.arrayContaining(["200 ", "200 server_error", "429 insufficient_credit", "499 client_closed_request", "500 server_error", "503 server_error", "504 upstream_timeout"]),
    );
  });

  it("stores bodies for failed calls, as the live proxy does, and none for successful ones", () => {
    const failed = q<{ n: number; withBodies: number }>(
      "SELECT COUNT(*) n, SUM(EXISTS (SELECT 1 FROM call_bodies b WHERE b.call_id = c.id AND b.request_body IS NOT NULL)) withBodies FROM calls c WHERE status >= 400 OR error_type IS NOT NULL",
    );
    expect(failed.n).toBeGreaterThan(0);
    expect(failed.withBodies).toBe(failed.n);
    expect(q<{ n: number }>("SELECT COUNT(*) n FROM call_bodies b JOIN calls c ON c.id = b.call_id WHERE c.status < 400 AND c.error_type IS NULL").n).toBe(0);
    // An error inside a stream keeps the streamed events up to the error; a 429 keeps upstream's error object.
    const streamError = q<{ response_body: string }>("SELECT b.response_body FROM call_bodies b JOIN calls c ON c.id = b.call_id WHERE c.status = 200 AND c.error_type = 'server_error' LIMIT 1");
    expect(streamError.response_body).toMatch(/^data: \{.*"content"/);
    expect(streamError.response_body).toContain('data: {"error":{"message":"model overloaded"');
    const credit = q<{ response_body: string }>("SELECT b.response_body FROM call_bodies b JOIN calls c ON c.id = b.call_id WHERE c.status = 429 LIMIT 1");
    expect(JSON.parse(credit.response_body).error.type).toBe("insufficient_credit");
  });

  it("records usage like the proxy: upstream mostly, estimated for cut streams, none for failures", () => {
    const bySource = Object.fromEntries(
      (sqliteClient(db).prepare("SELECT usage_source s, COUNT(*) n FROM calls GROUP BY usage_source").all() as { s: string; n: number }[]).map((r) => [r.s, r.n / seeded.calls]),
    );
    expect(bySource.upstream).toBeGreaterThan(0.9);
    expect(bySource.estimated).toBeGreaterThan(0.005);
    expect(bySource.none).toBeGreaterThan(0.01);
    expect(q<{ n: number }>("SELECT COUNT(*) n FROM calls WHERE usage_source != 'none' AND (prompt_tokens IS NULL OR completion_tokens IS NULL)").n).toBe(0);
    expect(q<{ n: number }>("SELECT COUNT(*) n FROM calls WHERE usage_source = 'none' AND prompt_tokens IS NOT NULL").n).toBe(0);
  });

  it("has latencies consistent with the latency model (TTFT of streams, duration after TTFT)", () => {
    // At most 600 ms plus prefill (≥ 10k prompt tokens/s) plus the proxy's few ms.
    const t = q<{ minTtft: number; slow: number; bad: number }>(
      "SELECT MIN(ttft_ms) minTtft, SUM(ttft_ms > 600 + prompt_tokens / 10.0 + 12) slow, SUM(ttft_ms > duration_ms) bad FROM calls WHERE stream = 1 AND status = 200",
    );
    expect(t.minTtft).toBeGreaterThanOrEqual(150);
    expect(t.slow).toBe(0);
    expect(t.bad).toBe(0);
    const ttfts = sqliteClient(db).prepare("SELECT ttft_ms FROM calls WHERE stream = 1 AND status = 200 ORDER BY ttft_ms").pluck().all() as number[];
    const median = ttfts[Math.floor(ttfts.length / 2)] ?? 0;
    expect(median).toBeGreaterThan(150);
    expect(median).toBeLessThan(900);
    expect(q<{ n: number }>("SELECT COUNT(*) n FROM calls WHERE stream = 0 AND ttft_ms IS NOT NULL").n).toBe(0);
    expect(q<{ d: number }>("SELECT MIN(duration_ms) d FROM calls WHERE status = 504").d).toBeGreaterThanOrEqual(20_000);
  });

  it("follows London office hours and weekdays", () => {
    // 10:00–16:59 UTC is daytime in London all year; 00:00–04:59 is night.
    const byHour = q<{ day: number; night: number }>(
      "SELECT SUM((created_at / 3600000) % 24 BETWEEN 10 AND 16) / 7.0 day, SUM((created_at / 3600000) % 24 BETWEEN 0 AND 4) / 5.0 night FROM calls",
    );
    expect(byHour.day).toBeGreaterThan(2 * byHour.night);
    // strftime('%w'): 0 = Sunday, 6 = Saturday.
    const byWeekday = q<{ weekday: number; weekend: number }>(
      "SELECT SUM(strftime('%w', created_at / 1000, 'unixepoch') NOT IN ('0', '6')) / 5.0 weekday, SUM(strftime('%w', created_at / 1000, 'unixepoch') IN ('0', '6')) / 2.0 weekend FROM calls",
    );
    expect(byWeekday.weekday).toBeGreaterThan(1.3 * byWeekday.weekend);
  });

  it("grows over the quarter", () => {
    const first = q<{ n: number }>(`SELECT COUNT(*) n FROM calls WHERE created_at < ${NOW - 62 * DAY}`).n;
    const last = q<{ n: number }>(`SELECT COUNT(*) n FROM calls WHERE created_at >= ${NOW - 28 * DAY}`).n;
    expect(last).toBeGreaterThan(first * 1.3);
  });

  it("prices calls through the recorder, and leaves the unpriced model's calls unpriced", () => {
    const unpriced = q<{ n: number; priced: number }>(`SELECT COUNT(*) n, SUM(cost_nano IS NOT NULL) priced FROM calls WHERE model = '${UNPRICED_MODEL}'`);
    expect(unpriced.n).toBeGreaterThan(0);
    expect(unpriced.n / seeded.calls).toBeLessThan(0.02);
    expect(unpriced.priced).toBe(0);
    const priced = q<{ missing: number; usd: number }>(
      `SELECT SUM(cost_nano IS NULL) missing, SUM(cost_nano) / 1e9 usd FROM calls WHERE model != '${UNPRICED_MODEL}' AND usage_source != 'none'`,
    );
    expect(priced.missing).toBe(0);
    expect(priced.usd).toBeGreaterThan(1);
  });

  it("is deterministic for a seed", () => {
    const opts = { now: NOW, days: 5, timeoutMs: 20_000, volume: 0.2 };
    const a = [...generateHistory({ ...opts, seed: 1 })];
    const b = [...generateHistory({ ...opts, seed: 1 })];
    const c = [...generateHistory({ ...opts, seed: 2 })];
    expect(a.length).toBeGreaterThan(100);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(new Set(a.map((r) => r.requestId)).size).toBe(a.length);
  });
});
