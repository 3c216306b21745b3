import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPricesSync } from "../../jobs/prices-sync.ts";
import { listJobRuns } from "../../server/job-runs/job-runs.ts";
import type { Logger } from "../../server/log.ts";
import { PriceBook } from "../../server/prices/price-book.ts";
import { insertPrice } from "../../server/prices/prices-store.ts";
import { bothEngines } from "./engines.ts";

// The price catalog on both engines: the seeded book, the price sync's one transaction (which
// reads the book through its own handle and adds only changed prices), and an admin price that
// the sync leaves alone.

const T0 = Date.UTC(2026, 10, 1);
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, enabled: () => false };
let upstream: Server;
let baseUrl: string;
let models: unknown[] = [];

beforeAll(async () => {
  upstream = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: models })));
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise((resolve) => upstream.close(resolve)));

describe.each(bothEngines())("prices on %s", (_engine, open) => {
  it("syncs changed and new prices once, keeps admin prices, and the book prices calls from the result", async () => {
    const db = await open();
    const seeded = await PriceBook.load(db);
    const llama8 = seeded.priceAt("meta-llama/Llama-3.1-8B-Instruct", T0)!;
    expect(llama8).toMatchObject({ source: "seed", inputMicroPerMtok: 30_000 });

    await insertPrice(db, { model: "acme/pinned", inputMicroPerMtok: 1, outputMicroPerMtok: 2, effectiveFrom: T0 - 1, source: "admin", createdAt: T0 - 1 });
    models = [
      { id: "meta-llama/Llama-3.1-8B-Instruct", object: "model", pricing: { input: 0.03, output: 0.03 } },
      { id: "meta-llama/Llama-3.3-70B-Instruct", object: "model", pricing: { input: 0.18, output: 0.22 } },
      { id: "acme/new-model", object: "model", pricing: { input: "0.5", output: "1.25" } },
      { id: "acme/pinned", object: "model", pricing: { input: 9, output: 9 } },
    ];
    const first = await runPricesSync(db, T0, { baseUrl, apiKey: "k", log: silent });
    expect(first).toMatchObject({ ran: true, added: ["meta-llama/Llama-3.3-70B-Instruct", "acme/new-model"], unchanged: 1, adminKept: 1 });
    const again = await runPricesSync(db, T0 + 1, { baseUrl, apiKey: "k", log: silent });
    expect(again).toMatchObject({ added: [], unchanged: 3, adminKept: 1 });

    const book = await PriceBook.load(db);
    expect(book.priceAt("acme/new-model", T0)).toMatchObject({ source: "sync", inputMicroPerMtok: 500_000, outputMicroPerMtok: 1_250_000 });
    expect(book.priceAt("acme/new-model", T0 - 1)).toBeNull();
    expect(book.priceAt("acme/pinned", T0 + 1)).toMatchObject({ source: "admin", inputMicroPerMtok: 1 });
    expect((await listJobRuns(db, { limit: 5, job: "prices-sync" })).map((r) => r.rows)).toEqual([0, 2]);
  });
});
