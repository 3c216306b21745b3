import { describe, expect, it } from "vitest";
import type { Db } from "../../server/db/database.ts";
import type { CallRecord } from "../../server/recorder/recorder.ts";
import { requestsSql } from "../../server/requests/dialect.ts";
import { failureGroups } from "../../server/requests/failures.ts";
import { NO_ERROR_TYPE, type RequestFilters } from "../../server/requests/filters.ts";
import { resolveKey } from "../../server/requests/key-match.ts";
import { knownModels, resolveModels } from "../../server/requests/model-match.ts";
import { getRequest, listRequests, listRequestsBounded } from "../../server/requests/query.ts";
import { hasAnyCall, recentLatency } from "../../server/requests/recent.ts";
import { makeCall } from "../factories.ts";
import { bothEnginesWithCalls } from "./engines-with-calls.ts";

// The Requests explorer's reads (what GET /api/requests, /api/requests/:id, the Requests and
// Failures pages call) on SQLite and PostgreSQL, from the same recorded calls: every filter, page
// and cursor, the key and model matching, the text search and the failure groups must give the
// same answer on both engines. Pages are checked against a plain reading of the filters' meaning
// (`expected` below), so an engine that differs from it, and so from the other, fails.

type Call = CallRecord["call"];
const T0 = Date.UTC(2026, 10, 2, 12);
const MIN = 60_000;

// Key and model names whose code-point order is not a natural-language collation's order
// (upper case, punctuation), so a walk or a sort that follows the collation shows up.
const KEYS = ["fe303d1c9a2b..Lm4R", "fe3999aaaa00..Qx7Z", "0123456789ab..Lm4R", "b0000000000a..zzQ1", "B0000000000a..zzQ1", "a0000000000a..zzQ1", "_0000000000a..zzQ1"];
const MODELS = ["acme/Llama-3.3-70B-Instruct", "acme/llama-guard", "Acme/Zeta", "_internal/x"];
const MESSAGES = [
  "Rate limit exceeded for this model",
  "Upstream timeout after 30000ms",
  "CAFÉ overloaded",
  "café overloaded",
  "100% of quota_used",
  "100 of quotaXused",
  "path C:\\tmp\\x failed",
  'said "NEAR" AND (x*)',
];

/** A fixed, varied history: 120 calls, a minute apart, some sharing an instant. */
function history(): Call[] {
  return Array.from({ length: 120 }, (_, i) => {
    const failed = i % 3 === 0;
    const status = failed ? [429, 500, 503, 400][i % 4]! : i % 7 === 0 ? 200 : 201;
    return makeCall({
      requestId: `req-${String(i).padStart(3, "0")}`,
      createdAt: T0 + Math.floor(i / 2) * MIN, // pairs share an instant: the id breaks the tie
      model: i % 11 === 0 ? null : MODELS[i % MODELS.length]!,
      status,
      errorType: failed ? (i % 5 === 0 ? null : status === 429 ? "rate_limit_error" : "server_error") : i % 13 === 0 ? "stream_error" : null,
      errorMessage: failed || i % 13 === 0 ? MESSAGES[i % MESSAGES.length]! : null,
      keyId: KEYS[i % KEYS.length]!,
      team: i % 4 === 0 ? null : `team-${i % 3}`,
      project: `p${i % 2}`,
      user: i % 5 === 0 ? "alice" : "bob",
    });
  });
}

const failed = (c: Call) => c.status >= 400 || c.errorType !== null;
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (ch) => ch.toLowerCase());

/** Which calls `f` selects, newest first: the filters' meaning, read plainly. */
function expected(rows: Call[], f: RequestFilters): string[] {
  const idOf = new Map(rows.map((c, i) => [c, i]));
  return rows
    .filter((c) => {
      if (f.status === "ok" && !(c.status < 400 && c.errorType === null)) return false;
      if (f.status === "error" && !failed(c)) return false;
      if (typeof f.status === "number" && c.status !== f.status) return false;
      if (f.model !== undefined && !(f.models ?? [f.model]).includes(c.model!)) return false;
      if (f.team !== undefined && c.team !== f.team) return false;
      if (f.project !== undefined && c.project !== f.project) return false;
      if (f.user !== undefined && c.user !== f.user) return false;
      if (f.key !== undefined && c.keyId !== f.key) return false;
      if (f.errorType !== undefined && c.errorType !== (f.errorType === NO_ERROR_TYPE ? null : f.errorType)) return false;
      if (f.from !== undefined && c.createdAt < f.from) return false;
      if (f.to !== undefined && c.createdAt >= f.to) return false;
      if (f.q !== undefined && !(failed(c) && c.errorMessage != null && asciiLower(c.errorMessage).includes(asciiLower(f.q)))) return false;
      return true;
    })
    .sort((a, b) => b.createdAt - a.createdAt || idOf.get(b)! - idOf.get(a)!)
    .map((c) => c.requestId);
}

/** Every page of `f` at `limit` rows, following next_cursor to the end. */
async function allPages(db: Db, f: RequestFilters, limit: number): Promise<string[]> {
  const seen: string[] = [];
  let cursor: RequestFilters["cursor"];
  for (let page = 0; page < 200; page++) {
    const got = await listRequests(db, { ...f, limit, cursor });
    expect(got.data.length).toBeLessThanOrEqual(limit);
    seen.push(...got.data.map((r) => r.request_id));
    if (got.next_cursor === null) return seen;
    const [createdAt, id] = Buffer.from(got.next_cursor, "base64url").toString().split(".").map(Number);
    cursor = { createdAt: createdAt!, id: id! };
  }
  throw new Error("no last page");
}

const FILTERS: RequestFilters[] = [
  {},
  { status: "ok" },
  { status: "error" },
  { status: 429 },
  { status: 201, team: "team-1" },
  { model: "guard", models: ["acme/llama-guard"] },
  { model: "z", models: ["acme/Llama-3.3-70B-Instruct", "Acme/Zeta"], status: "error" },
  { team: "team-2", project: "p0" },
  { user: "alice" },
  { key: "fe303d1c9a2b..Lm4R" },
  { key: "_0000000000a..zzQ1", status: "error" },
  { errorType: "server_error" },
  { errorType: NO_ERROR_TYPE },
  { errorType: NO_ERROR_TYPE, status: "error" },
  { from: T0 + 10 * MIN, to: T0 + 40 * MIN },
  { from: T0 + 10 * MIN, to: T0 + 40 * MIN, status: "error", model: "_internal/x" },
  { q: "rate LIMIT" },
  { q: "ms" }, // too short for either text index
  { q: "café" }, // É and é are different letters, as in SQLite's LIKE
  { q: "CAFÉ" },
  { q: "100%" }, // % and _ are plain text
  { q: "quota_used" },
  { q: "c:\\tmp" },
  { q: '"NEAR" and (x*' }, // FTS5 query syntax is plain text
  { q: "overloaded", team: "team-1" },
  { q: "no such text anywhere" },
];

describe.each(bothEnginesWithCalls())("Requests explorer reads on %s", (engine, open) => {
  it("every filter, paged 7 at a time through the cursors, selects the calls its meaning says, newest first", async () => {
    const { db, record } = await open();
    const rows = history();
    await record(rows.map((call) => ({ call })));
    for (const f of FILTERS) {
      const want = expected(rows, f);
      expect(await allPages(db, f, 7), JSON.stringify(f)).toEqual(want);
      expect((await listRequests(db, { ...f, limit: 500 })).data.map((r) => r.request_id), JSON.stringify(f)).toEqual(want);
    }
    // The dashboard's bounded read agrees wherever its budget covers every candidate.
    for (const f of FILTERS) {
      const page = await listRequestsBounded(db, { ...f, limit: 500 }, 10_000);
      expect([page.data.map((r) => r.request_id), page.searched_back_to], JSON.stringify(f)).toEqual([expected(rows, f), null]);
    }
  });

  it("a 1–2 character text is checked on the newest failed calls of the budget, and says how far back it looked", async () => {
    const { db, record } = await open();
    const rows = history();
    await record(rows.map((call) => ({ call })));
    // 40 failed calls; "ms" is in the messages of i % 8 === 1 (none failed) … the failed ones with
    // "Upstream timeout after 30000ms": i = 9, 33, 57, 81, 105.
    const first = await listRequestsBounded(db, { q: "ms", limit: 10 }, 12);
    const failedNewest = rows.filter(failed).reverse();
    const twelfth = failedNewest[11]!;
    expect(first.data.map((r) => r.request_id)).toEqual(expected(rows, { q: "ms" }).filter((id) => failedNewest.slice(0, 12).some((c) => c.requestId === id)));
    expect(first.searched_back_to).toBe(new Date(twelfth.createdAt).toISOString());
    expect(first.next_cursor).not.toBeNull();
  });

  it("one call by id or request_id, with its stored bodies", async () => {
    const { db, record } = await open();
    await record([
      { call: makeCall({ requestId: "with-bodies", createdAt: T0, status: 500, errorType: "server_error", errorMessage: "boom", costNano: 2_150_000_000 }), bodies: { request: '{"a":1}', response: "boom", truncated: true } },
      { call: makeCall({ requestId: "plain", createdAt: T0 + 1 }) },
    ]);
    const one = await getRequest(db, "with-bodies");
    expect(one).toMatchObject({ request_id: "with-bodies", status: 500, stream: false, cost_usd: "2.150000000", request_body: '{"a":1}', response_body: "boom", bodies_truncated: true });
    expect(await getRequest(db, one!.id)).toEqual(one);
    expect(await getRequest(db, "plain")).toMatchObject({ request_id: "plain", request_body: null, response_body: null, bodies_truncated: false, cost_usd: null });
    expect(await getRequest(db, "missing")).toBeNull();
    expect(await getRequest(db, 999_999)).toBeNull();
  });

  it("the text index counts at least every match and stops at its cap; past the index-read limit the walk answers the same", async () => {
    const { db, record } = await open();
    const many = Array.from({ length: 5_010 }, (_, i) =>
      makeCall({ requestId: `m-${i}`, createdAt: T0 + i, status: 503, errorType: "server_error", errorMessage: i % 2 ? "Service Unavailable" : "service unavailable (again)" }),
    );
    await record(many.map((call) => ({ call })));
    const sqlOf = requestsSql(db);
    expect(await sqlOf.countMatches(db, "unavailable", 100)).toBe(100);
    expect(await sqlOf.countMatches(db, "AGAIN", 10_000)).toBe(2_505);
    // 5,010 matches: more than the index reads, so the page walks the failed calls instead.
    const page = await listRequests(db, { q: "SERVICE unavailable", limit: 3 });
    expect(page.data.map((r) => r.request_id)).toEqual(["m-5009", "m-5008", "m-5007"]);
    const again = await listRequests(db, { q: "(again)", limit: 2 });
    expect(again.data.map((r) => r.request_id)).toEqual(["m-5008", "m-5006"]);
  });

  it("key filter: full, shown form, prefix, suffix; ambiguous and unknown ones are refused, listed in code-point order", async () => {
    const { db, record } = await open();
    await record(history().map((call) => ({ call })));
    expect(await resolveKey(db, "fe303d1c9a2b..Lm4R")).toBe("fe303d1c9a2b..Lm4R");
    expect(await resolveKey(db, "fe303d..Lm4R")).toBe("fe303d1c9a2b..Lm4R");
    expect(await resolveKey(db, "fe303")).toBe("fe303d1c9a2b..Lm4R");
    expect(await resolveKey(db, "Qx7Z")).toBe("fe3999aaaa00..Qx7Z");
    expect(await resolveKey(db, "0123..")).toBe("0123456789ab..Lm4R");
    expect(await resolveKey(db, "B0")).toBe("B0000000000a..zzQ1");
    expect(await resolveKey(db, "_000..zzQ1")).toBe("_0000000000a..zzQ1");
    await expect(resolveKey(db, "fe3")).rejects.toThrow(/^key: "fe3" matches 2 keys \(fe303d1c9a2b\.\.Lm4R, fe3999aaaa00\.\.Qx7Z\); give more characters/);
    await expect(resolveKey(db, "zzQ1")).rejects.toThrow('key: "zzQ1" matches 4 keys (B0000000000a..zzQ1, _0000000000a..zzQ1, a0000000000a..zzQ1, b0000000000a..zzQ1); give more characters');
    await expect(resolveKey(db, "..zzQ1")).rejects.toThrow(/^key: "\.\.zzQ1" matches 4 keys/);
    await expect(resolveKey(db, "nope..Lm4R")).rejects.toThrow(/^key: no recorded key matches "nope\.\.Lm4R"/);
    await expect(resolveKey(db, "fe30%")).rejects.toThrow(/no recorded key matches/); // no wildcards
  });

  it("model filter: part of a name in any case; the known models in code-point order", async () => {
    const { db, record } = await open();
    await record(history().map((call) => ({ call })));
    expect(await knownModels(db)).toEqual(["Acme/Zeta", "_internal/x", "acme/Llama-3.3-70B-Instruct", "acme/llama-guard"]);
    expect(await resolveModels(db, "70b")).toEqual(["acme/Llama-3.3-70B-Instruct"]);
    expect(await resolveModels(db, "ACME/")).toEqual(["Acme/Zeta", "acme/Llama-3.3-70B-Instruct", "acme/llama-guard"]);
    expect(await resolveModels(db, "acme/llama-guard")).toEqual(["acme/llama-guard"]);
    await expect(resolveModels(db, "no-such-model")).rejects.toThrow('model: no recorded model contains "no-such-model"');
  });

  it("failure groups: counts, first/last seen, example and histogram per group, largest first, ties in a fixed order", async () => {
    const { db, record } = await open();
    const rows = history();
    await record(rows.map((call) => ({ call })));
    const from = T0;
    const to = T0 + 60 * MIN;
    const report = await failureGroups(db, { from, to, limit: 50, slots: 6 });
    const failures = rows.map((c, i) => ({ c, id: i + 1 })).filter(({ c }) => failed(c));
    expect(report.total).toBe(failures.length);
    expect(report.grouped).toBe(failures.length);
    const byGroup = new Map<string, { c: Call; id: number }[]>();
    for (const f of failures) {
      const key = JSON.stringify([f.c.status, f.c.errorType, f.c.model]);
      byGroup.set(key, [...(byGroup.get(key) ?? []), f]);
    }
    const want = [...byGroup.values()]
      .map((g) => ({
        status: g[0]!.c.status,
        errorType: g[0]!.c.errorType,
        model: g[0]!.c.model,
        count: g.length,
        firstSeen: Math.min(...g.map((x) => x.c.createdAt)),
        lastSeen: Math.max(...g.map((x) => x.c.createdAt)),
        exampleId: Math.max(...g.map((x) => x.id)),
        histogram: [0, 1, 2, 3, 4, 5].map((s) => g.filter((x) => Math.floor((x.c.createdAt - from) / (10 * MIN)) === s).length),
      }))
      .sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen || b.exampleId - a.exampleId);
    expect(report.groups).toEqual(want);
    expect((await getRequest(db, want[0]!.exampleId))?.request_id).toBe(rows[want[0]!.exampleId - 1]!.requestId);

    const capped = await failureGroups(db, { from, to, limit: 3, slots: 6, maxGrouped: 10 });
    expect(capped).toMatchObject({ total: failures.length, grouped: 10, groupedFrom: failures.at(-10)!.c.createdAt });
    expect(capped.groups).toHaveLength(3);
  });

  it("the overview's reads of the newest calls: whether there is any, and the latest successful calls' latency", async () => {
    const { db, record } = await open();
    expect(await hasAnyCall(db)).toBe(false);
    expect(await recentLatency(db)).toEqual({ sample: 0, p50: null, p95: null, ttftP50: null });
    await record(Array.from({ length: 30 }, (_, i) => ({ call: makeCall({ createdAt: T0 + i, durationMs: 100 + i, ttftMs: i % 2 ? 10 + i : null, status: i % 10 === 0 ? 500 : 200 }) })));
    expect(await hasAnyCall(db)).toBe(true);
    // The newest 20 successful calls: i = 29 … 9 without 20 and 10.
    expect(await recentLatency(db, 20)).toEqual({ sample: 20, p50: 118, p95: 128, ttftP50: 29 });
  });

  if (engine === "postgres") {
    it("on a database whose collation is not code-point order (ICU en-US), keys, models and text match as on SQLite", async () => {
      const { db, record } = await open("TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.utf8'");
      const rows = history();
      await record(rows.map((call) => ({ call })));
      expect(await knownModels(db)).toEqual(["Acme/Zeta", "_internal/x", "acme/Llama-3.3-70B-Instruct", "acme/llama-guard"]);
      await expect(resolveKey(db, "zzQ1")).rejects.toThrow("(B0000000000a..zzQ1, _0000000000a..zzQ1, a0000000000a..zzQ1, b0000000000a..zzQ1)");
      expect(await resolveKey(db, "fe303d..Lm4R")).toBe("fe303d1c9a2b..Lm4R");
      for (const q of ["café", "CAFÉ", "rate LIMIT"]) expect(await allPages(db, { q }, 7), q).toEqual(expected(rows, { q }));
    });
  }
});
