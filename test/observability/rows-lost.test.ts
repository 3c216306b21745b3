import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { chatBody, postChat, startProxyRig } from "../proxy/proxy-harness.ts";
import { readScrape } from "./scrape.ts";

async function scrape(url: string, token: string) {
  return readScrape(await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text());
}

describe("tollbooth_recorder_rows_lost", () => {
  it("stays 0 while writes fail for longer than SQLite's busy timeout under mixed traffic, and every counted call is a row", { timeout: 90_000 }, async () => {
    const rig = await startProxyRig({ RECORDER_BATCH_SIZE: "7" });
    try {
      const dbPath = rig.server.config.DATABASE_URL;
      // Another process holds the write lock past the writer's 5 s busy timeout, so batch
      // writes fail and are retried while calls keep coming.
      const holder = spawn(
        process.execPath,
        ["-e", `const D=require("better-sqlite3");const d=new D(${JSON.stringify(dbPath)});d.exec("BEGIN IMMEDIATE");process.stdout.write("locked\\n");setTimeout(()=>{d.exec("COMMIT");process.exit(0)},7000)`],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
      const exited = new Promise((r) => holder.on("exit", r));
      let sent = 0;
      const t0 = Date.now();
      while (Date.now() - t0 < 6_000) {
        const kind = sent % 4;
        sent++;
        if (kind === 0) await (await postChat(rig, chatBody())).text();
        else if (kind === 1) await (await postChat(rig, chatBody({ stream: true }))).text();
        else if (kind === 2) await (await postChat(rig, chatBody(), { "x-fake-scenario": "status-500" })).text();
        else {
          // The caller hangs up mid-stream.
          const abort = new AbortController();
          const res = await postChat(rig, chatBody({ stream: true }), { "x-fake-chunk-delay-ms": "50", "x-fake-chunks": "20" }, { signal: abort.signal });
          await res.body!.getReader().read();
          abort.abort();
        }
      }
      const during = await scrape(rig.server.url, rig.server.adminToken);
      expect(during.sum("tollbooth_recorder_queue_rows")).toBeGreaterThan(0);
      expect(during.sum("tollbooth_recorder_rows_lost")).toBe(0);
      await exited;
      const rows = await rig.waitForRows(sent, 30_000);
      const after = await scrape(rig.server.url, rig.server.adminToken);
      expect(after.sum("tollbooth_recorder_spilled_rows_total")).toBeGreaterThan(0);
      expect(after.sum("tollbooth_recorder_rows_lost")).toBe(0);
      expect(after.sum("tollbooth_recorder_queue_rows")).toBe(0);
      expect(after.sum("tollbooth_requests_total")).toBe(sent);
      expect(rows).toHaveLength(sent);
    } finally {
      await rig.stop();
    }
  });
});
