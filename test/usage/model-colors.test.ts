import { describe, expect, it } from "vitest";
import { PALETTE_SIZE } from "../../server/usage/palette.ts";
import { makeCall } from "../factories.ts";
import { rollUpAll } from "../pg/rollup-ready.ts";
import { record, useSignedInServer } from "../pages/page-client.ts";

// Models get palette colours in the order they were first used, so the first 16 never share
// one. These two hash to the same colour (FNV-1a % 16 = 4): with the hash alone they clashed in
// the demo's charts.
const CLASHING = ["Qwen/Qwen2.5-Coder-32B-Instruct", "Qwen/Qwen3-235B-A22B-Instruct-2507"];
const OTHERS = Array.from({ length: PALETTE_SIZE - 2 }, (_, i) => `vendor/model-${i}`);

const app = useSignedInServer();

const DAY = 86_400_000;
const day = (t: number) => new Date(t).toISOString().slice(0, 10);

/** model → its swatch class on the spend page (by model, over the test's days). */
async function swatches(from: number, to: number): Promise<Map<string, string>> {
  const html = await (await app.user.get(`/spend?by=model&compare=0&period=custom&tz=UTC&from=${day(from)}&to=${day(to)}`)).text();
  const out = new Map<string, string>();
  for (const m of html.matchAll(/<i class="swatch mark-model (mc-[\w-]+)" aria-hidden="true"><\/i>([^<]+)</g)) out.set(m[2]!, m[1]!);
  return out;
}

describe("model colours", () => {
  it("gives the first 16 models distinct colours in first-use order, stable as more arrive", async () => {
    const now = Date.now();
    const models = [...CLASHING, ...OTHERS];
    // One model per day, oldest first (models first used on the same day are ordered by name).
    const start = now - models.length * DAY;
    await record(app.server, ...models.map((model, i) => ({ call: makeCall({ model, createdAt: start + i * DAY }) })));
    // The palette reads the rollups alone: wait until one run can take every call on PostgreSQL.
    await rollUpAll(app.server.db, now);
    const first = await swatches(start, now);
    expect([...first.keys()].sort()).toEqual([...models].sort());
    expect(new Set(first.values()).size).toBe(PALETTE_SIZE);
    expect(first.get(CLASHING[0]!)).not.toBe(first.get(CLASHING[1]!));

    // A 17th model wraps around; nobody else's colour moves.
    await record(app.server, { call: makeCall({ model: "vendor/late", createdAt: now }) });
    await rollUpAll(app.server.db, now + 1);
    const second = await swatches(start, now);
    for (const m of models) expect(second.get(m), m).toBe(first.get(m));
    expect(second.get("vendor/late")).toMatch(/^mc-\d+$/);
  });

  it("a team and a model never look alike: each dimension has its own mark, whatever the colour", async () => {
    const now = Date.now();
    await record(app.server, { call: makeCall({ model: "shared/colour", team: "shared/colour", project: "shared/colour", user: "shared/colour", createdAt: now }) });
    const html = await (await app.user.get(`/spend?by=team&then=model&compare=0&period=custom&tz=UTC&from=${day(now)}&to=${day(now)}`)).text();
    const marks = [...html.matchAll(/<i class="swatch (mark-\w+) (mc-[\w-]+)" aria-hidden="true"><\/i>shared\/colour</g)].map((m) => [m[1], m[2]]);
    // Same name, same colour, two shapes.
    expect(marks).toEqual([
      ["mark-team", marks[0]![1]],
      ["mark-model", marks[0]![1]],
    ]);
    const detail = await (await app.user.get("/requests?model=shared/colour")).text();
    const id = /href="\/requests\/(\d+)"/.exec(detail)![1];
    const call = await (await app.user.get(`/requests/${id}`)).text();
    for (const kind of ["model", "team", "project", "user"]) expect(call, kind).toContain(`<i class="swatch mark-${kind} `);
  });
});
