import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRetention } from "../../jobs/retention.ts";
import { openDatabase } from "../../server/db/open.ts";
import { calls } from "../../server/db/schema.ts";
import type { CallRecord } from "../../server/recorder/recorder.ts";
import { SEARCH_BUDGET, searchPageQuery, type BoundedRequestPage, type RequestPage } from "../../server/requests/query.ts";
import { makeCall } from "../factories.ts";
import { startTestServer, type TestServer, ON_POSTGRES } from "../harness.ts";
import { migrationsUpTo } from "../usage/old-migrations.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";
import { syncOrm } from "../sync-orm.ts";

// GET /api/requests?q= through the error-message index (FTS5 trigrams, migration 0011): same
// meaning as the LIKE it replaces (any-case substring of the message), every other filter and
// keyset paging still apply, FTS query syntax in q is plain text, and the index follows the
// calls it indexes through recorder inserts, retention deletes and the migration's backfill.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const MINUTE = 60_000;
/** A word no other test's message contains, so tests sharing the database stay independent. */
const word = () => `w${randomUUID().replaceAll("-", "").slice(0, 10)}`;

async function record(...records: CallRecord[]): Promise<void> {
  for (const r of records) server.recorder.enqueue(r);
  expect(await server.recorder.flushed(), "recorder flush").toBe(true);
}

const failed = (createdAt: number, errorMessage: string, more: Partial<CallRecord["call"]> = {}): CallRecord => ({
  call: makeCall({ createdAt, status: 504, errorType: "upstream_timeout", errorMessage, ...more }),
});

async function search(query: Record<string, string>): Promise<BoundedRequestPage> {
  const path = `/api/requests?${new URLSearchParams(query)}`;
  const res = await server.api(path);
  const body = await res.text();
  expect(res.status, `${path}: ${body}`).toBe(200);
  return JSON.parse(body) as BoundedRequestPage;
}

const messages = (page: RequestPage) => page.data.map((r) => r.error_message);

describe("GET /api/requests?q= finds text in error messages", () => {
  const tag = word();
  const t = Date.UTC(2031, 2, 1);
  beforeAll(async () => {
    await record(
      failed(t, `${tag} upstream did not answer within 30000 ms (timeout)`),
      failed(t + MINUTE, `${tag} upstream timed out after 30 s`),
      failed(t + 2 * MINUTE, `${tag} Rate limit exceeded: TIMEOUTS are not the problem`, { status: 429, errorType: "rate_limit_error" }),
      failed(t + 3 * MINUTE, `${tag} connection reset by peer`, { status: 502, errorType: "upstream_unreachable" }),
    );
  });

  it.each([
    ["timeout", ["Rate limit exceeded: TIMEOUTS are not the problem", "upstream did not answer within 30000 ms (timeout)"]],
    ["upstream timed", ["upstream timed out after 30 s"]],
    ["imeou", ["Rate limit exceeded: TIMEOUTS are not the problem", "upstream did not answer within 30000 ms (timeout)"]], // inside a word
    ["TIMED OUT", ["upstream timed out after 30 s"]], // any case
    ["30000 ms (time", ["upstream did not answer within 30000 ms (timeout)"]], // spaces and punctuation are text
    ["reset by peer", ["connection reset by peer"]],
    ["timed  out", []], // two spaces: not in any message
  ])("%s", async (q, expected) => {
    const page = await search({ q, from: "2031-03-01", to: "2031-03-02" });
    expect(messages(page).filter((m) => m?.startsWith(tag)).map((m) => m!.slice(tag.length + 1))).toEqual(expected);
  });

  it("keeps every other filter and pages through the matches with the cursor, newest first", async () => {
    const team = word();
    const base = Date.UTC(2031, 3, 1);
    // 7 matches (one a 429 of another model, one outside the range), 3 non-matches, interleaved.
    const rows = Array.from({ length: 10 }, (_, i) =>
      failed(base + i * MINUTE, i % 3 === 2 ? "connection refused" : `upstream timed out (${i})`, {
        team,
        model: i === 4 ? "other-model" : "m1",
        ...(i === 6 ? { status: 429, errorType: "rate_limit_error" } : {}),
      }),
    );
    await record(...rows, failed(base + 20 * 86_400_000, "upstream timed out (late)", { team, model: "m1" }));
    const range = { from: new Date(base).toISOString(), to: new Date(base + 86_400_000).toISOString() };

    const all = await search({ q: "timed out", team, ...range });
    expect(messages(all)).toEqual([9, 7, 6, 4, 3, 1, 0].map((i) => `upstream timed out (${i})`));
    expect(all.next_cursor).toBeNull();
    expect(all.searched_back_to).toBeNull();
    expect(messages(await search({ q: "timed out", team, model: "m1", status: "504", ...range }))).toEqual([9, 7, 3, 1, 0].map((i) => `upstream timed out (${i})`));
    expect(messages(await search({ q: "timed out", team, status: "ok" }))).toEqual([]);

    const seen: (string | null)[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: BoundedRequestPage = await search({ q: "timed out", team, limit: "2", ...range, ...(cursor ? { cursor } : {}) });
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...messages(page));
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(messages(all));
  });

  it("treats FTS5 query syntax in q as plain text: never a 500, and finds it when a message contains it", async () => {
    const team = word();
    const literal = `quota "exceeded" * NEAR(a b) -x col:val ^start (AND) OR 'q'`;
    await record(failed(Date.UTC(2031, 4, 1), literal, { team }));
    for (const q of [
      '"',
      '""',
      '"unbalanced',
      "a*",
      "*",
      "NEAR(a b)",
      "-x",
      "x OR y",
      "col:val",
      "^start",
      "(AND)",
      "'q'",
      "NOT",
      "a + b",
      "{x}",
      "\\",
      "%_",
      "emoji 🙂 text",
    ]) {
      const page = await search({ q, team });
      expect(messages(page), q).toEqual(literal.toLowerCase().includes(q.toLowerCase()) ? [literal] : []);
    }
    const nul = await server.api(`/api/requests?q=${encodeURIComponent("\u0000zz")}`);
    expect(nul.status).toBe(400);
    expect((await nul.json()).error.message).toContain("q:");
    for (const q of ['"exceeded"', "* NEAR(a b) -x", "col:val ^start", "(AND) OR 'q'"]) expect(messages(await search({ q, team })), q).toEqual([literal]);
  });

  // With a team, the failures are walked on calls_failed_team_created_idx and each is read; with
  // only a time range, on calls_failed_created_idx, which on SQLite carries the message so only
  // matches are read (query.ts candidatePage). Both must give the same pages.
  it.each([
    ["with a team", Date.UTC(2031, 5, 1), (team: string) => ({ team })],
    ["with only a time range", Date.UTC(2031, 6, 1), () => ({ from: "2031-07-01", to: "2031-07-02" })],
  ])("a text of 1–2 characters cannot use the index: it is checked on SEARCH_BUDGET failures per page, with searched_back_to (%s)", async (_, t0, scope) => {
    const team = word();
    // The match is the oldest of SEARCH_BUDGET + 5 failures: beyond the first page's budget. The
    // newest one matches in another case, and one call that did not fail carries the text too.
    await record(
      failed(t0, "an ee here", { team }),
      ...Array.from({ length: SEARCH_BUDGET + 3 }, (_, i) => failed(t0 + (i + 1) * 1000, "nothing", { team })),
      failed(t0 + (SEARCH_BUDGET + 4) * 1000, "EE upper", { team }),
      { call: makeCall({ createdAt: t0 + (SEARCH_BUDGET + 5) * 1000, team, status: 200, errorMessage: "ee in a success" }) },
    );
    const first = await search({ q: "ee", ...scope(team) });
    expect(messages(first)).toEqual(["EE upper"]);
    expect(first.searched_back_to).toBe(new Date(t0 + 5_000).toISOString());
    const second = await search({ q: "ee", ...scope(team), cursor: first.next_cursor! });
    expect(messages(second)).toEqual(["an ee here"]);
    expect(second.searched_back_to).toBeNull();
  });

  // Not run on PostgreSQL: SQLite's FTS5 index (PostgreSQL's trigram search: test/requests/explorer-both-engines.test.ts).
  it.skipIf(ON_POSTGRES)("reads the index, not every message: a message written around the recorder is not found, and the plan scans calls_error_fts", async () => {
    const team = word();
    const tag = word();
    // Straight into calls, as a data import might: the row exists, its message was never indexed.
    syncOrm(server.db).insert(calls).values(makeCall({ team, status: 500, errorType: "server_error", errorMessage: `${tag} unindexed` })).run();
    await record(failed(Date.now(), `${tag} indexed`, { team }));
    expect(messages(await search({ q: tag, team }))).toEqual([`${tag} indexed`]);
    const { sql, params } = searchPageQuery(server.db, { q: tag, team }).toSQL();
    const plan = (sqliteClient(server.db).prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((p) => p.detail);
    // The index is the outer loop; each match is fetched by rowid.
    expect(plan[0]).toMatch(/^SCAN calls_error_fts VIRTUAL TABLE/);
    expect(plan[1]).toMatch(/^SEARCH calls USING INTEGER PRIMARY KEY/);
  });

  // Not run on PostgreSQL: SQLite's FTS5 index (PostgreSQL's trigram search: test/requests/explorer-both-engines.test.ts).
  it.skipIf(ON_POSTGRES)("indexes a call once, under its own id, when a retried or replayed batch writes it again", async () => {
    const [tag, other] = [word(), word()];
    const rec = failed(Date.now(), `${tag} retried`);
    // The repeat comes after another call: nothing of it may land on that call's id.
    await record(rec, failed(Date.now(), `${other} in between`), rec);
    await record(rec);
    const ids = (t: string) => sqliteClient(server.db).prepare("SELECT rowid FROM calls_error_fts WHERE calls_error_fts MATCH ?").pluck().all(`"${t}"`);
    expect(ids(tag)).toHaveLength(1);
    expect(ids(other)).toHaveLength(1);
    expect(ids(tag)).not.toEqual(ids(other));
    expect(messages(await search({ q: tag }))).toEqual([`${tag} retried`]);
  });
});

describe("the message index follows retention", () => {
  // Not run on PostgreSQL: SQLite's FTS5 index (PostgreSQL's trigram search: test/requests/explorer-both-engines.test.ts).
  it.skipIf(ON_POSTGRES)("drops the entries of the calls retention deletes, and keeps indexing new ones", async () => {
    const tag = word();
    const now = Date.UTC(2032, 0, 1);
    const old = now - 500 * 86_400_000; // past RETENTION_CALLS_DAYS=400
    await record(failed(old, `${tag} old one`), failed(old + MINUTE, `${tag} old two`), failed(now - 86_400_000, `${tag} recent`));
    const indexed = () => sqliteClient(server.db).prepare("SELECT rowid FROM calls_error_fts WHERE calls_error_fts MATCH ? ORDER BY rowid").pluck().all(`"${tag}"`);
    expect(indexed()).toHaveLength(3);

    const result = await runRetention(server.db, now, { bodiesDays: 30, callsDays: 400 });
    expect(result.callsDeleted).toBeGreaterThanOrEqual(2);
    const left = sqliteClient(server.db).prepare("SELECT id FROM calls WHERE error_message LIKE ? ORDER BY id").pluck().all(`${tag}%`);
    expect(left).toHaveLength(1);
    expect(indexed()).toEqual(left);
    expect(messages(await search({ q: tag }))).toEqual([`${tag} recent`]);
    sqliteClient(server.db).exec("INSERT INTO calls_error_fts (calls_error_fts, rank) VALUES ('integrity-check', 0)");

    await record(failed(now, `${tag} after retention`));
    expect(messages(await search({ q: tag }))).toEqual([`${tag} after retention`, `${tag} recent`]);
  });
});

describe("migration 0011 on an existing database", () => {
  const dir = mkdtempSync(join(tmpdir(), "tollbooth-fts-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("backfills the index from the messages already stored", () => {
    const path = join(dir, "old.db");
    const before = new Database(path);
    migrate(drizzle(before), { migrationsFolder: migrationsUpTo(dir, 10) });
    const old = drizzle(before);
    old.insert(calls).values([
      makeCall({ createdAt: 1, status: 504, errorType: "upstream_timeout", errorMessage: "upstream did not answer within 30000 ms" }),
      makeCall({ createdAt: 2, status: 429, errorType: "rate_limit_error", errorMessage: "Rate limit exceeded" }),
      makeCall({ createdAt: 3 }),
    ]).run();
    before.close();

    const db = openDatabase(path); // applies 0011
    try {
      const find = (q: string) => sqliteClient(db).prepare("SELECT rowid FROM calls_error_fts WHERE calls_error_fts MATCH ?").pluck().all(`"${q}"`);
      expect(find("answer with")).toEqual([1]);
      expect(find("RATE LIMIT")).toEqual([2]);
      expect(sqliteClient(db).prepare("SELECT count(*) FROM calls_error_fts").pluck().get()).toBe(2);
    } finally {
      sqliteClient(db).close();
    }
  });
});
