import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../harness.ts";
import { chatBody, postChat, startProxyRig, type ProxyRig } from "./proxy-harness.ts";

let rig: ProxyRig;
beforeAll(async () => {
  rig = await startProxyRig();
});
afterAll(() => rig.stop());

describe("under load: hundreds of parallel calls → exactly that many rows", () => {
  it("records 400 concurrent calls (JSON, streams and errors) exactly once each", async () => {
    const N = 400;
    const scenarios = ["ok", "ok", "status-429", "status-503"];
    const responses = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const res = await postChat(rig, chatBody({ stream: i % 3 === 0 }), { "x-fake-scenario": scenarios[i % scenarios.length]! });
        await res.text();
        return { status: res.status, id: res.headers.get("x-tollbooth-request-id")! };
      }),
    );
    await waitFor(() => rig.rows().length >= N, 10_000);
    await new Promise((r) => setTimeout(r, 100)); // nothing extra may trickle in
    const rows = rig.rows();
    expect(rows).toHaveLength(N);
    expect(new Set(rows.map((r) => r.requestId))).toEqual(new Set(responses.map((r) => r.id)));
    const byId = new Map(rows.map((r) => [r.requestId, r.status]));
    expect(responses.every((r) => byId.get(r.id) === r.status)).toBe(true);
  }, 60_000);
});
