import { Hono } from "hono";
import type { AppDeps } from "../app.ts";
import { parseInput } from "../validation.ts";
import { z } from "zod";
import { queryUsage } from "../usage/usage-query.ts";
import { bucketEndAfter, startOf } from "../time.ts";
import { KeysPage } from "../../views/keys/keys.tsx";
import type { PageEnv } from "../pages/page-env.tsx";
import { keyIdSchema, keyNameSchema } from "./key-name-input.ts";
import { listKeyNames, setKeyName } from "./key-names-store.ts";

// GET /keys: this month's keys (top 20 by spend) and every named key, each with a name field;
// POST /keys/name saves one (the same checks as POST /api/keys/:key_id/name).

export function keysPages({ db, clock, config }: Pick<AppDeps, "db" | "clock" | "config">): Hono<PageEnv> {
  const app = new Hono<PageEnv>();

  app.get("/keys", async (c) => {
    const now = clock.now();
    const tz = config.REPORT_TZ;
    const month = await queryUsage(db, { from: startOf("month", now, tz), to: bucketEndAfter(now), tz, groupBy: ["key"] });
    const names = await listKeyNames(db);
    const used = month.rows.filter((r) => !r.other && r.group.key).map((r) => ({ keyId: r.group.key!, requests: r.requests, costNano: r.costNano }));
    const seen = new Set(used.map((k) => k.keyId));
    const idle = [...names.keys()].filter((k) => !seen.has(k)).map((keyId) => ({ keyId, requests: 0n, costNano: 0n }));
    return c.render(<KeysPage keys={[...used, ...idle]} names={names} saved={c.req.query("done") === "saved"} csrfToken={c.get("session")?.csrfToken ?? ""} />, {
      title: "Keys",
      nav: "keys",
    });
  });

  app.post("/keys/name", async (c) => {
    const body = await c.req.parseBody();
    const form = parseInput(z.object({ key_id: keyIdSchema, name: keyNameSchema }), { key_id: body.key_id, name: body.name ?? "" }, "form");
    await setKeyName(db, form.key_id, form.name, clock.now());
    return c.redirect("/keys?done=saved", 303);
  });

  return app;
}
