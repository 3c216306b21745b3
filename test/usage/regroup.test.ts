import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { regroup } from "../../server/usage/regroup.ts";
import { OTHER_LABEL, TOP_N, queryUsage } from "../../server/usage/usage-query.ts";
import { makeCall } from "../factories.ts";
import { startTestServer, type TestServer } from "../harness.ts";
import { record } from "../pages/page-client.ts";
import { rollUpAll } from "../pg/rollup-ready.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const DAY = 86_400_000;

describe("regroup", () => {
  it("adds a [day, model] report up by model exactly as a [model] read, (other) included", async () => {
    const from = Date.UTC(2033, 2, 1);
    const to = from + 5 * DAY;
    // More models than TOP_N, with spend spread unevenly over the days, so some fold into (other).
    const models = Array.from({ length: TOP_N + 6 }, (_, i) => `regroup-model-${String(i).padStart(2, "0")}`);
    await record(
      server,
      ...models.flatMap((model, i) =>
        Array.from({ length: 1 + (i % 4) }, (_, k) => ({
          call: makeCall({ model, createdAt: from + ((i + k) % 5) * DAY + k * 60_000, costNano: (i % 7) * 1_000 + k, status: k === 2 ? 503 : 200, errorType: k === 2 ? "server_error" : null }),
        })),
      ),
    );
    // Half of the calls rolled up, the rest still in the raw tail: both sources go through the same sums.
    await rollUpAll(server.db, Date.now());
    await record(server, { call: makeCall({ model: models[3]!, createdAt: from + 4 * DAY, costNano: 5 }) }, { call: makeCall({ model: null, createdAt: from + DAY }) });

    for (const tz of ["UTC", "Asia/Kathmandu"]) {
      const direct = await queryUsage(server.db, { from, to, tz, groupBy: ["model"] });
      const series = await queryUsage(server.db, { from, to, tz, groupBy: ["day", "model"] });
      const mine = regroup(series, "model");
      expect(direct.rows.some((r) => r.other && r.group.model === OTHER_LABEL), "the data folds some models").toBe(true);
      expect(mine.rows).toEqual(direct.rows);
      expect(mine.totals).toEqual(direct.totals);
      expect(mine.groupBy).toEqual(["model"]);
    }
  });
});
