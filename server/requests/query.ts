import { and, desc, eq, gte, inArray, isNull, lt, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/database.ts";
import { callBodies, calls, type Call } from "../db/schema.ts";
import { DEFAULT_LIMIT, NO_ERROR_TYPE, encodeCursor, type RequestFilters } from "./filters.ts";
import { requestsSql, type RequestsSql, type TextSearch } from "./dialect.ts";
import { containsPattern } from "./like-pattern.ts";
import { indexable } from "./message-index.ts";
import { searchPageQuery as sqliteSearchPageQuery } from "./sqlite/requests-sql.ts";
import { formatNanoAsUsd } from "../money.ts";

// The request explorer's reads, shared by GET /api/requests and the dashboard pages. Every value
// from a filter reaches the database as a bound parameter; only fixed SQL text is written inline.
// The same filters give the same rows on SQLite and PostgreSQL; the little SQL one of them does
// not run is in dialect.ts.

const nullableText = z.string().nullable();
const nullableCount = z.number().int().nullable();

/** One call as the API shows it: snake_case, ISO UTC time, money as a USD decimal string. */
const requestRowSchema = z.object({
  id: z.number().int(),
  request_id: z.string(),
  created_at: z.string().meta({ description: "ISO 8601 UTC" }),
  model: nullableText,
  endpoint: z.string(),
  stream: z.boolean(),
  status: z.number().int(),
  error_type: nullableText,
  error_message: nullableText,
  prompt_tokens: nullableCount,
  completion_tokens: nullableCount,
  total_tokens: nullableCount,
  usage_source: z.enum(["upstream", "estimated", "none"]),
  duration_ms: z.number().int(),
  ttft_ms: nullableCount,
  key_id: nullableText.meta({ description: "Fingerprint of the caller's key, never the key" }),
  team: nullableText,
  project: nullableText,
  user: nullableText,
  upstream_request_id: nullableText,
  // null = unpriced, never "0" by default (docs/architecture.md, "Money is exact").
  cost_usd: nullableText.meta({ description: "USD decimal string; null when the model had no price" }),
});
export type RequestRow = z.infer<typeof requestRowSchema>;

export const requestDetailSchema = requestRowSchema.extend({
  request_body: nullableText,
  response_body: nullableText,
  bodies_truncated: z.boolean(),
});
export type RequestDetail = z.infer<typeof requestDetailSchema>;

export interface RequestPage {
  data: RequestRow[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null;
}

/** A page read with a scan budget (listRequestsBounded), as GET /api/requests answers. */
export const boundedRequestPageSchema = z.object({
  data: z.array(requestRowSchema),
  next_cursor: z.string().nullable().meta({ description: "Pass back as `cursor` for the next (older) page; null on the last page" }),
  // Set when the row-level filters were checked on only the newest `maxScanned` candidates and
  // fewer than a page matched: the oldest candidate looked at. next_cursor continues from it.
  searched_back_to: z.string().nullable().meta({ description: "For a 1–2 character q: how far back this page looked (ISO); otherwise null" }),
});
export type BoundedRequestPage = z.infer<typeof boundedRequestPageSchema>;

// Written exactly as the WHERE of calls_failed_created_idx (schema.ts): SQLite uses a partial
// index only when it can prove the query implies the index predicate, and the sure way is to
// repeat that term verbatim (a literal 400, so the plan never hinges on a bound value; with 500
// it would fall back to a full scan). EXPLAIN QUERY PLAN is checked in test/requests/api.test.ts.
const FAILED = sql`(${calls.status} >= 400 OR ${calls.errorType} IS NOT NULL)`;

// q matches a message containing it with ASCII letters in any case (SQLite's LIKE; the engine's
// messageLike). That test decides what q matches on every path: the text index (FTS5 trigrams on
// SQLite, pg_trgm on PostgreSQL) only narrows down which rows it is checked on.

/**
 * Filters no index serves: SQLite checks them on each row it reads, so a rare value makes it read
 * every candidate the index-served filters leave (an unmatched search over all failed calls was
 * ~460 ms at 10M calls).
 */
const ROW_FILTERS = ["q", "user", "project"] as const;

/**
 * Whether only failed calls can match. A failing code implies it, and so does a text search:
 * only failed calls carry an error message (the proxy sets one only with an error type or a
 * status >= 400). Saying so lets SQLite seek the small partial index of failures instead of
 * filtering every row of calls_created_idx (status=429, or q without a status).
 */
function failedOnly(f: RequestFilters): boolean {
  return f.status === "error" || (typeof f.status === "number" && f.status >= 400) || f.q !== undefined || (f.errorType !== undefined && f.errorType !== NO_ERROR_TYPE);
}

/** The model filter: the exact models it was resolved to (model-match.ts), else the given name. */
function modelCondition(f: RequestFilters, model: string): SQL {
  if (f.models === undefined) return eq(calls.model, model);
  return f.models.length === 1 ? eq(calls.model, f.models[0]!) : inArray(calls.model, f.models);
}

function conditions(f: RequestFilters, dialect: RequestsSql): SQL[] {
  return conditionParts(f, dialect).all;
}

/** The page's conditions (`all`), and apart: the text test and the others. */
function conditionParts(f: RequestFilters, dialect: RequestsSql): { all: SQL[]; text: SQL | null; rest: SQL[] } {
  const where: SQL[] = [];
  if (f.status === "ok") where.push(lt(calls.status, 400), isNull(calls.errorType));
  if (failedOnly(f)) where.push(FAILED);
  if (typeof f.status === "number") where.push(eq(calls.status, f.status));
  if (f.model !== undefined) where.push(modelCondition(f, f.model));
  if (f.team !== undefined) where.push(eq(calls.team, f.team));
  if (f.project !== undefined) where.push(eq(calls.project, f.project));
  if (f.user !== undefined) where.push(eq(calls.user, f.user));
  if (f.key !== undefined) where.push(eq(calls.keyId, f.key));
  if (f.errorType !== undefined) where.push(f.errorType === NO_ERROR_TYPE ? isNull(calls.errorType) : eq(calls.errorType, f.errorType));
  const text = f.q === undefined ? null : dialect.messageLike(containsPattern(f.q));
  if (text) where.push(text);
  const all = [...where, ...windowConditions(f)];
  return { all, text, rest: all.filter((c) => c !== text) };
}

/** The time range and the keyset position. */
function windowConditions(f: RequestFilters): SQL[] {
  const where: SQL[] = [];
  if (f.from !== undefined) where.push(gte(calls.createdAt, f.from));
  if (f.to !== undefined) where.push(lt(calls.createdAt, f.to));
  // Row-value comparison: SQLite (>= 3.15) and PostgreSQL both seek an index on (created_at, id)
  // with it, so a deep page costs the same as the first one.
  if (f.cursor) where.push(sql`(${calls.createdAt}, ${calls.id}) < (${f.cursor.createdAt}, ${f.cursor.id})`);
  return where;
}

/**
 * The page query itself (one row more than asked, to know whether another page follows), walking
 * calls newest first on an index. With a text search this checks messages row by row until the
 * page is full: quick when the text is common, a walk over every failed call when it is rare.
 */
export function requestPageQuery(db: Db, filters: RequestFilters) {
  const limit = filters.limit ?? DEFAULT_LIMIT;
  return db.orm
    .select()
    .from(calls)
    .where(and(...conditions(filters, requestsSql(db))))
    .orderBy(desc(calls.createdAt), desc(calls.id))
    .limit(limit + 1);
}

/**
 * A text search reads its matches from the message index, each by rowid, when there are at most
 * this many: ~30 ms for 5,000 at 10M calls (bench/spend-*), then sorted. A text found in more
 * messages than that is common, and requestPageQuery's walk meets a page of it sooner (~0.1 ms
 * for a text in every tenth failure).
 */
const INDEX_READ_MAX = 5_000;

/** SQLite's page of a text search read from the message index (sqlite/requests-sql.ts), as a query to EXPLAIN. */
export function searchPageQuery(db: Db, filters: RequestFilters & { q: string }) {
  return sqliteSearchPageQuery(db, filters.q, and(...conditions(filters, requestsSql(db))), (filters.limit ?? DEFAULT_LIMIT) + 1);
}

/** A text search's page for the engine's SQL (dialect.ts), or null without one. */
function textSearch(db: Db, filters: RequestFilters): { dialect: RequestsSql; search: TextSearch } | null {
  if (filters.q === undefined) return null;
  const dialect = requestsSql(db);
  const { all, text, rest } = conditionParts(filters, dialect);
  const search = { q: filters.q, where: and(...all), text: text!, rest: and(...rest), limit: (filters.limit ?? DEFAULT_LIMIT) + 1, indexReadMax: INDEX_READ_MAX };
  return { dialect, search };
}

/** The exact page of a text search through the text index, or null when its text is too short or too common for it. */
async function indexedSearch(db: Db, filters: RequestFilters): Promise<RequestPage | null> {
  const s = textSearch(db, filters);
  if (!s || !indexable(s.search.q)) return null;
  const rows = await s.dialect.searchPage(db, s.search);
  return rows && toPage(rows, s.search.limit - 1);
}

/** The page walking calls newest first: the page query, or the engine's own walk for a text search. */
async function walkedPage(db: Db, filters: RequestFilters): Promise<RequestPage> {
  const s = textSearch(db, filters);
  const limit = filters.limit ?? DEFAULT_LIMIT;
  if (s?.dialect.walkTextPage) return toPage(await s.dialect.walkTextPage(db, s.search), limit);
  return toPage(await requestPageQuery(db, filters), limit);
}

/**
 * Calls a search, user or project filter is checked on per explorer page at most: ~17 ms at 10M
 * calls for a phrase no failed call contains (bench/pages-*.ts), where searching them all took
 * ~460 ms. "Load more" carries on from where a page stopped. GET /api/requests has no budget
 * (a script expects full pages, and may wait for them) except for a text too short for the
 * message index.
 */
export const SEARCH_BUDGET = 10_000;

/** Newest-first keyset page of calls matching `filters`, with no scan budget. */
export async function listRequests(db: Db, filters: RequestFilters): Promise<RequestPage> {
  // Without a text search the page is one statement, which reads one snapshot by itself: no
  // transaction (on PostgreSQL that saves two round trips: BEGIN and COMMIT).
  if (filters.q === undefined) return toPage(await requestPageQuery(db, filters), filters.limit ?? DEFAULT_LIMIT);
  // One read snapshot, so the match count and the page agree.
  return db.transaction(async (tx) => (await indexedSearch(tx, filters)) ?? (await walkedPage(tx, filters)), { snapshot: true });
}

/**
 * listRequests for the dashboard: with a search, user or project filter, those are checked on
 * at most the newest `maxScanned` candidates (calls that one index-served filter selects, found
 * on that index alone), so a page costs about the same however rare the match. When the budget
 * runs out first, the page may hold fewer rows than asked and says how far back it looked; its
 * next_cursor continues the search from there. Without such a filter it is listRequests, and so
 * is a text search the message index answers (a rare text: the index finds all of it at once).
 */
export async function listRequestsBounded(db: Db, filters: RequestFilters, maxScanned: number): Promise<BoundedRequestPage> {
  const limit = filters.limit ?? DEFAULT_LIMIT;
  if (!ROW_FILTERS.some((f) => filters[f] !== undefined)) return { ...(await listRequests(db, filters)), searched_back_to: null };
  const newestFirst = [desc(calls.createdAt), desc(calls.id)];
  // One read snapshot, so the budget's end and the page agree.
  return db.transaction(async (tx): Promise<BoundedRequestPage> => {
    const indexed = await indexedSearch(tx, filters);
    if (indexed) return { ...indexed, searched_back_to: null };
    const where = and(...candidateConditions(filters));
    const dialect = requestsSql(tx);
    const rows = dialect.candidatePage
      ? await dialect.candidatePage(tx, where, and(...conditions(filters, dialect)), maxScanned, limit + 1)
      : (await candidatePageQuery(tx, filters, maxScanned, limit + 1)).map((r) => r.call);
    if (rows.length > limit) return { ...toPage(rows, limit), searched_back_to: null };
    // Less than a page: the budget's last candidate, and whether any is left after it. Asked only
    // now, as walking to it costs a read of the whole budget.
    const [oldest, beyond] = await tx.orm.select({ createdAt: calls.createdAt, id: calls.id }).from(calls).where(where).orderBy(...newestFirst).limit(2).offset(maxScanned - 1);
    // No more candidates than the budget: all of them were checked, so the page is complete.
    if (!oldest || !beyond) return { ...toPage(rows, limit), searched_back_to: null };
    return { data: rows.map(toRequestRow), next_cursor: encodeCursor(oldest), searched_back_to: new Date(oldest.createdAt).toISOString() };
  }, { snapshot: true });
}

/**
 * The newest `maxScanned` candidates (candidateConditions) that meet every filter, `rows` of them
 * at most: SQLite's bounded page, exported as a query to EXPLAIN.
 */
export function candidatePageQuery(db: Db, filters: RequestFilters, maxScanned: number, rows: number) {
  const { all, text } = conditionParts(filters, requestsSql(db));
  // The text test is taken in the walk, on the message calls_failed_created_idx carries, so only
  // the matches are read by rowid: a 2-character search over 10,000 failures at 10M calls went
  // from a row read each (~5 ms, p95 20 ms over HTTP) to the index alone (~1 ms).
  // CROSS JOIN makes SQLite walk the candidates and fetch each by rowid; left to itself it may
  // pick another filter's index and probe the candidate list, reading far more than the budget.
  const candidates = db.orm
    .select({ id: calls.id, createdAt: calls.createdAt, hit: sql<number>`${text ?? sql`1`}`.as("hit") })
    .from(calls)
    .where(and(...candidateConditions(filters)))
    .orderBy(desc(calls.createdAt), desc(calls.id))
    .limit(maxScanned)
    .as("candidates");
  return db.orm
    .select({ call: calls })
    .from(candidates)
    .crossJoin(calls)
    .where(and(sql`${candidates.hit}`, eq(calls.id, candidates.id), ...all))
    // Ordered by the candidates' own columns (the same values), SQLite sees that the walk is
    // already in page order: it stops at the page's last row instead of fetching and sorting
    // every candidate (a common text: ~30 ms → ~2 ms at 10M calls).
    .orderBy(desc(candidates.createdAt), desc(candidates.id))
    .limit(rows);
}

/**
 * The candidates of a bounded page: the time window, the cursor and the filters one index serves
 * (failures first, with a model or team when given: a search is over failed calls), so they are
 * found on that index without reading rows. Every filter is still applied to them in full.
 */
function candidateConditions(f: RequestFilters): SQL[] {
  const where: SQL[] = [];
  if (failedOnly(f)) {
    where.push(FAILED);
    // calls_failed_model_created_idx / calls_failed_team_created_idx.
    if (f.model !== undefined) where.push(modelCondition(f, f.model));
    else if (f.team !== undefined) where.push(eq(calls.team, f.team));
  } else if (f.key !== undefined) where.push(eq(calls.keyId, f.key));
  else if (f.model !== undefined) where.push(modelCondition(f, f.model));
  else if (f.team !== undefined) where.push(eq(calls.team, f.team));
  return [...where, ...windowConditions(f)];
}

function toPage(rows: Call[], limit: number): RequestPage {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const next_cursor = rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null;
  return { data: page.map(toRequestRow), next_cursor };
}

/** One call with its stored bodies, by integer id or by request_id; null when there is none. */
export async function getRequest(db: Db, ref: number | string): Promise<RequestDetail | null> {
  const [found] = await db.orm
    .select({ call: calls, body: { request: callBodies.requestBody, response: callBodies.responseBody, truncated: callBodies.truncated } })
    .from(calls)
    .leftJoin(callBodies, eq(callBodies.callId, calls.id))
    .where(typeof ref === "number" ? eq(calls.id, ref) : eq(calls.requestId, ref));
  if (!found) return null;
  return {
    ...toRequestRow(found.call),
    request_body: found.body?.request ?? null,
    response_body: found.body?.response ?? null,
    bodies_truncated: found.body?.truncated ?? false,
  };
}

function toRequestRow(c: Call): RequestRow {
  return {
    id: c.id,
    request_id: c.requestId,
    created_at: new Date(c.createdAt).toISOString(),
    model: c.model,
    endpoint: c.endpoint,
    stream: c.stream,
    status: c.status,
    error_type: c.errorType,
    error_message: c.errorMessage,
    prompt_tokens: c.promptTokens,
    completion_tokens: c.completionTokens,
    total_tokens: c.totalTokens,
    usage_source: c.usageSource,
    duration_ms: c.durationMs,
    ttft_ms: c.ttftMs,
    key_id: c.keyId,
    team: c.team,
    project: c.project,
    user: c.user,
    upstream_request_id: c.upstreamRequestId,
    cost_usd: c.costNano === null ? null : formatNanoAsUsd(BigInt(c.costNano)),
  };
}
