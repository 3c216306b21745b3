import { and, desc, eq, gte, isNull, lt, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/open.ts";
import { callBodies, calls, type Call } from "../db/schema.ts";
import { DEFAULT_LIMIT, encodeCursor, type RequestFilters } from "./filters.ts";

// The request explorer's reads, shared by GET /api/requests and the dashboard pages. Every value
// from a filter reaches SQLite as a bound parameter; only fixed SQL text is written inline.

/** One call as the API shows it: snake_case, ISO UTC time, money as a USD decimal string. */
export interface RequestRow {
  id: number;
  request_id: string;
  created_at: string;
  model: string | null;
  endpoint: string;
  stream: boolean;
  status: number;
  error_type: string | null;
  error_message: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  usage_source: Call["usageSource"];
  duration_ms: number;
  ttft_ms: number | null;
  key_id: string | null;
  team: string | null;
  project: string | null;
  user: string | null;
  upstream_request_id: string | null;
  /** null = unpriced, never "0" by default (architecture.md promise 4). */
  cost_usd: string | null;
}

export interface RequestDetail extends RequestRow {
  request_body: string | null;
  response_body: string | null;
  bodies_truncated: boolean;
}

export interface RequestPage {
  data: RequestRow[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null;
}

// Written exactly as the WHERE of calls_failed_created_idx (schema.ts): SQLite uses a partial
// index only when it can prove the query implies the index predicate, and the sure way is to
// repeat that term verbatim (a literal 400, so the plan never hinges on a bound value; with 500
// it would fall back to a full scan). EXPLAIN QUERY PLAN is checked in test/api/requests.test.ts.
const FAILED = sql`(${calls.status} >= 400 OR ${calls.errorType} IS NOT NULL)`;

// LIKE treats % and _ as wildcards; escape them (and the escape character) so q is a plain
// substring. SQLite's LIKE is case-insensitive for ASCII only; PostgreSQL's twin is ILIKE.
function containsPattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, "\\$&")}%`;
}

function conditions(f: RequestFilters): SQL[] {
  const where: SQL[] = [];
  if (f.status === "ok") where.push(lt(calls.status, 400), isNull(calls.errorType));
  else if (f.status === "error") where.push(FAILED);
  // A failing code also gets the (implied) FAILED term, so e.g. status=429 can seek the small
  // partial index instead of filtering every row of calls_created_idx.
  else if (f.status !== undefined) where.push(...(f.status >= 400 ? [FAILED] : []), eq(calls.status, f.status));
  if (f.model !== undefined) where.push(eq(calls.model, f.model));
  if (f.team !== undefined) where.push(eq(calls.team, f.team));
  if (f.project !== undefined) where.push(eq(calls.project, f.project));
  if (f.user !== undefined) where.push(eq(calls.user, f.user));
  if (f.key !== undefined) where.push(eq(calls.keyId, f.key));
  if (f.from !== undefined) where.push(gte(calls.createdAt, f.from));
  if (f.to !== undefined) where.push(lt(calls.createdAt, f.to));
  if (f.q !== undefined) where.push(sql`${calls.errorMessage} LIKE ${containsPattern(f.q)} ESCAPE '\\'`);
  // Row-value comparison: SQLite (>= 3.15) and PostgreSQL both seek an index on (created_at, id)
  // with it, so a deep page costs the same as the first one.
  if (f.cursor) where.push(sql`(${calls.createdAt}, ${calls.id}) < (${f.cursor.createdAt}, ${f.cursor.id})`);
  return where;
}

/** The page query itself (one row more than asked, to know whether another page follows). */
export function requestPageQuery(db: Db, filters: RequestFilters) {
  const limit = filters.limit ?? DEFAULT_LIMIT;
  return db
    .select()
    .from(calls)
    .where(and(...conditions(filters)))
    .orderBy(desc(calls.createdAt), desc(calls.id))
    .limit(limit + 1);
}

/** Newest-first keyset page of calls matching `filters`. */
export function listRequests(db: Db, filters: RequestFilters): RequestPage {
  const limit = filters.limit ?? DEFAULT_LIMIT;
  const rows = requestPageQuery(db, filters).all();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const next_cursor = rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null;
  return { data: page.map(toRequestRow), next_cursor };
}

/** One call with its stored bodies, by integer id or by request_id; null when there is none. */
export function getRequest(db: Db, ref: number | string): RequestDetail | null {
  const found = db
    .select({ call: calls, body: { request: callBodies.requestBody, response: callBodies.responseBody, truncated: callBodies.truncated } })
    .from(calls)
    .leftJoin(callBodies, eq(callBodies.callId, calls.id))
    .where(typeof ref === "number" ? eq(calls.id, ref) : eq(calls.requestId, ref))
    .get();
  if (!found) return null;
  return {
    ...toRequestRow(found.call),
    request_body: found.body?.request ?? null,
    response_body: found.body?.response ?? null,
    bodies_truncated: found.body?.truncated ?? false,
  };
}

export function toRequestRow(c: Call): RequestRow {
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
    cost_usd: c.costNano === null ? null : formatUsdFromNano(c.costNano),
  };
}

// TODO: replace with server/money.ts's formatter once it lands (money has one home, style.md).
// String/BigInt math so no float ever touches money: 1500 → "0.000001500".
function formatUsdFromNano(nano: number): string {
  const n = BigInt(nano);
  const abs = n < 0n ? -n : n;
  const units = abs / 1_000_000_000n;
  const frac = (abs % 1_000_000_000n).toString().padStart(9, "0");
  return `${n < 0n ? "-" : ""}${units}.${frac}`;
}
