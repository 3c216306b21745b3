import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DemoError, startDemo } from "../../server/demo/demo.ts";
import { startTestServer, waitFor } from "../harness.ts";
import { makeCall } from "../factories.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";

const quick = { days: 3, latencyScale: 0.02 };

describe("npm run demo (startDemo)", () => {
  let dir: string;
  let dbUrl: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tollbooth-demo-"));
    dbUrl = join(dir, "demo.db");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("starts on port 0, seeds, serves /healthz, keeps live calls flowing and stops cleanly", async () => {
    const demo = await startDemo({ ...quick, env: { PORT: "0", DATABASE_URL: dbUrl, LOG_LEVEL: "error" }, liveRate: 25 });
    try {
      expect(demo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(demo.seeded?.calls).toBeGreaterThan(1_000);
      expect(demo.calls).toBe(demo.seeded?.calls);
      // The admin token is generated and kept the normal way, in the demo's own data folder.
      expect(demo.adminToken).toMatch(/^tb_/);
      const tokenFile = join(dir, "demo", "admin-token");
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);

      // The rollup ran after seeding, so the dashboards have every seeded call at once.
      const rolled = sqliteClient(demo.server.db).prepare("SELECT SUM(requests) FROM rollup_every_dim_15m").pluck().get() as number;
      expect(rolled).toBeGreaterThanOrEqual(demo.seeded?.calls ?? Infinity);

      const health = await fetch(`${demo.url}/healthz`);
      expect(health.status, await health.text()).toBe(200);
      const api = await fetch(`${demo.url}/api/requests?limit=1`, { headers: { authorization: `Bearer ${demo.adminToken}` } });
      expect(api.status, await api.text()).toBe(200);

      // Live calls go through the real proxy to the simulator and are recorded.
      const seededTo = demo.seeded?.to ?? 0;
      const live = () => sqliteClient(demo.server.db).prepare("SELECT COUNT(*) FROM calls WHERE created_at > ? AND team IS NOT NULL").pluck().get(seededTo) as number;
      await waitFor(() => live() >= 3, 30_000);
      expect(demo.simulator.requests).toBeGreaterThan(0);
    } finally {
      await demo.stop();
    }
    expect(demo.traffic?.inFlight).toBe(0);
    // Every call sent was recorded (none lost at shutdown).
    const again = await startDemo({ ...quick, env: { PORT: "0", DATABASE_URL: dbUrl, LOG_LEVEL: "error" }, liveRate: 0 });
    try {
      expect(again.seeded).toBeNull(); // reused, not seeded twice
      expect(again.calls).toBe((demo.seeded?.calls ?? 0) + (demo.traffic?.sent ?? 0));
      expect(again.adminToken).toBe(demo.adminToken);
    } finally {
      await again.stop();
    }
  }, 90_000);

  it("--reset starts over with a freshly seeded database", async () => {
    const demo = await startDemo({ ...quick, env: { PORT: "0", DATABASE_URL: dbUrl, LOG_LEVEL: "error" }, liveRate: 0, reset: true, seed: 5 });
    try {
      expect(demo.seeded).not.toBeNull();
      expect(demo.calls).toBe(demo.seeded?.calls);
    } finally {
      await demo.stop();
    }
  }, 60_000);

  it("refuses to add simulated calls to a database it did not write, and does not delete it", async () => {
    const real = await startTestServer();
    real.recorder.enqueue({ call: makeCall() });
    await real.recorder.flushed();
    const path = real.config.DATABASE_URL;
    await real.close();
    try {
      const env = { PORT: "0", DATABASE_URL: path, LOG_LEVEL: "error" };
      await expect(startDemo({ ...quick, env, liveRate: 0 })).rejects.toThrow(DemoError);
      await expect(startDemo({ ...quick, env, liveRate: 0, reset: true })).rejects.toThrow(/not written by the demo/);
      expect(existsSync(path)).toBe(true);
    } finally {
      rmSync(real.dir, { recursive: true, force: true });
    }
  });

  it("says clearly when the port is taken", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startDemo({ ...quick, env: { PORT: String(port), DATABASE_URL: join(dir, "other.db"), LOG_LEVEL: "error" }, liveRate: 0 })).rejects.toThrow(
        new DemoError(`port ${port} on 127.0.0.1 is already in use (another tollbooth or demo?): stop it or run with PORT=${port + 1}`),
      );
    } finally {
      blocker.close();
    }
  });
});
