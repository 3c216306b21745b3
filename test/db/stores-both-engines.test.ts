import { describe, expect, it } from "vitest";
import { jobSummaries } from "../../server/job-runs/latest-runs.ts";
import { listJobRuns, recordJobRun, startJobRun } from "../../server/job-runs/job-runs.ts";
import { readState, writeState } from "../../server/job-runs/job-state.ts";
import { listKeyNames, setKeyName } from "../../server/keys/key-names-store.ts";
import { insertPrice, listPrices } from "../../server/prices/prices-store.ts";
import { createSession, deleteSession, findSession, SESSION_TTL_MS } from "../../server/sessions/store.ts";
import { bothEngines } from "./engines.ts";

// The engine-neutral stores of sessions, job runs and state, prices and key names, with the same
// assertions on SQLite and on PostgreSQL: what one engine answers, the other must answer too.

const T0 = Date.UTC(2026, 10, 1);

describe.each(bothEngines())("stores on %s", (_engine, open) => {
  it("sessions: created, found while live, refused once expired or deleted, expired rows swept at login", async () => {
    const db = await open();
    const a = await createSession(db, T0);
    expect(a).toMatchObject({ createdAt: T0, expiresAt: T0 + SESSION_TTL_MS });
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await findSession(db, a.id, T0 + 1)).toEqual(a);
    expect(await findSession(db, a.id, T0 + SESSION_TTL_MS)).toBeNull();
    expect(await findSession(db, "x".repeat(43), T0)).toBeNull();
    const b = await createSession(db, T0 + SESSION_TTL_MS);
    expect(await findSession(db, a.id, T0)).toBeNull();
    expect(await findSession(db, b.id, T0 + SESSION_TTL_MS)).toEqual(b);
    await deleteSession(db, b.id);
    expect(await findSession(db, b.id, T0 + SESSION_TTL_MS)).toBeNull();
  });

  it("job runs: logged open, then finished or failed; listed newest first by job; summarised per job", async () => {
    const db = await open();
    const open1 = await startJobRun(db, "rollup", T0);
    const done = await open1.succeed(7);
    expect(done).toMatchObject({ job: "rollup", startedAt: T0, rows: 7, error: null });
    expect(done.finishedAt).toBeGreaterThanOrEqual(T0);
    await expect(recordJobRun(db, "rollup", T0 + 10, async () => Promise.reject(new Error("disk full")), () => 0)).rejects.toThrow("disk full");
    const { run } = await recordJobRun(db, "retention", T0 + 20, async () => [1, 2, 3], (r) => r.length);
    expect(run).toMatchObject({ job: "retention", rows: 3, error: null });

    const all = await listJobRuns(db, { limit: 10 });
    expect(all.map((r) => [r.job, r.error])).toEqual([
      ["retention", null],
      ["rollup", "disk full"],
      ["rollup", null],
    ]);
    expect((await listJobRuns(db, { limit: 10, job: "rollup", before: all[1]!.id })).map((r) => r.id)).toEqual([done.id]);

    const summaries = await jobSummaries(db, { CRON_ENABLED: false, ROLLUP_CRON: "", REPORTS_CRON: "", PRICES_SYNC_CRON: "", RETENTION_CRON: "" });
    const rollup = summaries.find((s) => s.job === "rollup")!;
    expect(rollup.latest).toMatchObject({ job: "rollup", startedAt: T0 + 10, error: "disk full", rows: null });
    expect(rollup.lastSuccessAt).toBe(T0);
    expect(summaries.find((s) => s.job === "prices-sync")).toMatchObject({ latest: null, lastSuccessAt: null });
  });

  it("job state: 0 until written, then the last value written (an upsert)", async () => {
    const db = await open();
    expect(await readState(db, "rollup_watermark")).toBe(0);
    await writeState(db, "rollup_watermark", 41);
    await writeState(db, "rollup_watermark", 2 ** 40);
    expect(await readState(db, "rollup_watermark")).toBe(2 ** 40);
  });

  it("prices: inserted in USD with integer micro-USD, listed newest first by model and page", async () => {
    const db = await open();
    const seeded = await listPrices(db, { limit: 1000 });
    const row = { model: "acme/big", inputMicroPerMtok: 2_500_000, outputMicroPerMtok: 10_000_000_000, effectiveFrom: T0, source: "admin", createdAt: T0 + 1 } as const;
    const p = await insertPrice(db, row);
    expect(p).toMatchObject({ model: "acme/big", currency: "USD", inputMicroPerMtok: 2_500_000, outputMicroPerMtok: 10_000_000_000, effectiveFrom: T0 });
    const q = await insertPrice(db, { ...row, inputMicroPerMtok: 3, createdAt: T0 + 2 });
    expect(await listPrices(db, { limit: 10, model: "acme/big" })).toEqual([q, p]);
    expect(await listPrices(db, { limit: 10, model: "acme/big", before: q.id })).toEqual([p]);
    expect(await listPrices(db, { limit: 1000 })).toHaveLength(seeded.length + 2);
  });

  it("key names: named, renamed (an upsert), forgotten", async () => {
    const db = await open();
    await setKeyName(db, "k1", "ci bot", T0);
    await setKeyName(db, "k2", "alice", T0);
    await setKeyName(db, "k1", "ci robot", T0 + 1);
    expect(await listKeyNames(db)).toEqual(new Map([["k1", "ci robot"], ["k2", "alice"]]));
    await setKeyName(db, "k2", null, T0 + 2);
    expect(await listKeyNames(db)).toEqual(new Map([["k1", "ci robot"]]));
  });
});
