import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPricesSync } from "../../jobs/prices-sync.ts";
import type { Logger } from "../../server/log.ts";
import { startTestServer, type TestServer } from "../harness.ts";
import { fixedClock, getJson } from "../usage/spend-fixtures.ts";
import { runJobCli } from "../usage/run-cli.ts";

// prices-sync against a tiny local stand-in for Nscale's GET /v1/models.

const KEY = "nscale-test-key";

function capturingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => void lines.push(`${level} ${msg}`);
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), enabled: () => true };
}

describe("prices-sync job", () => {
  const clock = fixedClock("2025-03-20T03:17:00Z");
  let server: TestServer;
  let upstream: Server;
  let baseUrl: string;
  let models: unknown[] = [];
  let status = 200;
  let seenAuth: string | undefined;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      seenAuth = req.headers.authorization;
      if (req.url !== "/v1/models") return void res.writeHead(404).end();
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(status === 200 ? { object: "list", data: models } : { error: { message: "invalid service token" } }));
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    server = await startTestServer({ UPSTREAM_BASE_URL: baseUrl }, clock);
  });
  afterAll(async () => {
    await server?.stop();
    await new Promise((r) => upstream?.close(r));
  });

  const sync = (log = capturingLog()) => runPricesSync(server.db, clock.now(), { baseUrl, apiKey: KEY, log });
  const inEffect = async (model: string) => {
    const body = await getJson(server, `/api/prices?model=${encodeURIComponent(model)}`);
    return body.data.find((p: { in_effect: boolean }) => p.in_effect);
  };

  it("adds a sync row for each changed or new price, skipping malformed entries with a log line", async () => {
    models = [
      { id: "meta-llama/Llama-3.1-8B-Instruct", object: "model", pricing: { input: 0.03, output: 0.03 } }, // same as seed
      { id: "meta-llama/Llama-3.3-70B-Instruct", object: "model", pricing: { input: 0.18, output: 0.22 } }, // changed
      { id: "acme/new-model", object: "model", pricing: { input: "0.5", output: "1.25" } }, // new, as strings
      { id: "acme/broken", object: "model", pricing: { input: "cheap", output: 1 } },
      { id: "acme/negative", object: "model", pricing: { input: -1, output: 1 } },
      { id: "acme/no-pricing", object: "model" },
      { object: "model" },
    ];
    const log = capturingLog();
    const result = await sync(log);
    expect(seenAuth).toBe(`Bearer ${KEY}`);
    expect(result).toEqual({ ran: true, added: ["meta-llama/Llama-3.3-70B-Instruct", "acme/new-model"], unchanged: 1, adminKept: 0, skipped: 4 });
    expect(log.lines.filter((l) => l.startsWith("warn prices-sync: skipped"))).toHaveLength(4);
    expect(log.lines.join("\n")).toContain("acme/broken: malformed pricing");
    expect(await inEffect("meta-llama/Llama-3.3-70B-Instruct")).toMatchObject({ source: "sync", input_usd_per_mtok: "0.18", output_usd_per_mtok: "0.22", effective_from: "2025-03-20T03:17:00.000Z" });
    expect(await inEffect("acme/new-model")).toMatchObject({ source: "sync", input_usd_per_mtok: "0.5", output_usd_per_mtok: "1.25" });
  });

  it("adds nothing when nothing changed", async () => {
    clock.set("2025-03-21T03:17:00Z");
    expect((await sync()).added).toEqual([]);
  });

  it("never overrides a model with an admin price", async () => {
    const res = await server.api("/api/prices", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "acme/new-model", input_usd_per_mtok: "0.4", output_usd_per_mtok: "1" }),
    });
    expect(res.status).toBe(201);
    clock.set("2025-03-22T03:17:00Z");
    models = [{ id: "acme/new-model", pricing: { input: 0.6, output: 1.5 } }];
    const result = await sync();
    expect(result).toMatchObject({ added: [], adminKept: 1 });
    expect(await inEffect("acme/new-model")).toMatchObject({ source: "admin", input_usd_per_mtok: "0.4" });
  });

  it("logs a failed run in job_runs when upstream refuses, and skips without a key", async () => {
    status = 401;
    await expect(sync()).rejects.toThrow(/answered 401/);
    status = 200;
    const jobs = await getJson(server, "/api/jobs?job=prices-sync&limit=1");
    expect(jobs.data[0]).toMatchObject({ job: "prices-sync", status: "failed", error: expect.stringContaining("401") });
    const log = capturingLog();
    expect(await runPricesSync(server.db, clock.now(), { baseUrl, apiKey: undefined, log })).toMatchObject({ ran: false });
    expect(log.lines[0]).toContain("UPSTREAM_API_KEY is not set");
  });

  it("runs from the command line: npm run job -- prices-sync", async () => {
    models = [{ id: "acme/cli-model", pricing: { input: 0.01, output: 0.02 } }];
    const r = await runJobCli(["prices-sync"], { DATABASE_URL: server.config.DATABASE_URL, UPSTREAM_BASE_URL: baseUrl, UPSTREAM_API_KEY: KEY });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("prices-sync: 1 prices added, 0 unchanged, 0 kept (admin price), 0 skipped");
  });
});
