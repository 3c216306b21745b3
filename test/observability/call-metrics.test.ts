import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { CallMetrics, type RecorderFigures } from "../../server/observability/call-metrics.ts";
import { LabelCap, statusClass } from "../../server/observability/label-cap.ts";
import type { CallRecord } from "../../server/recorder/recorder.ts";
import { makeCall } from "../factories.ts";
import { readScrape } from "./scrape.ts";

// CallMetrics counts in plain numbers and writes the exposition text itself. These tests hold it
// to what prom-client would have written for the same calls, byte for byte, and to the label cap.

type Row = CallRecord["call"];
const RECORDER: RecorderFigures = { queued: 3, inFlight: 2, lost: 0 };
let n = 0;

function row(over: Partial<Row>): Row {
  n++;
  // Fixed ids and times: the exposition text must not depend on the clock.
  return makeCall({ requestId: `req-${n}`, createdAt: 1_700_000_000_000 + n, model: "meta-llama/Llama-3.1-8B-Instruct", endpoint: "/chat/completions", durationMs: 40, keyId: null, team: "ml", ...over });
}

/** The same families counted by prom-client itself, one inc/observe per figure per call. */
function promClientReference(maxLabelValues: number, recorder: RecorderFigures) {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({
    name: "tollbooth_requests_total",
    help: "Calls through /v1 by model, team, status class and error type (empty when the call succeeded)",
    labelNames: ["model", "team", "status", "error_type"],
    registers,
  });
  const tokens = new Counter({
    name: "tollbooth_tokens_total",
    help: "Tokens of calls through /v1 (type input or output; reported by upstream or estimated)",
    labelNames: ["model", "team", "type"],
    registers,
  });
  const duration = new Histogram({
    name: "tollbooth_request_duration_seconds",
    help: "Time from a call's arrival to its last byte",
    labelNames: ["model", "team", "status"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers,
  });
  const ttft = new Histogram({
    name: "tollbooth_time_to_first_token_seconds",
    help: "Time from a streamed call's arrival to its first content token",
    labelNames: ["model", "team"],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers,
  });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  gauge("tollbooth_recorder_queue_rows", "Call rows journaled but not yet committed to the database", () => recorder.queued);
  gauge("tollbooth_calls_in_flight", "Calls that have arrived and not finished", () => recorder.inFlight);
  gauge(
    "tollbooth_recorder_rows_lost",
    "Call rows that can no longer be recorded: neither committed nor kept in the journal, with the writer thread gone (0 unless both the journal and the writer failed)",
    () => recorder.lost,
  );
  const models = new LabelCap(maxLabelValues);
  const teams = new LabelCap(maxLabelValues);
  const errorTypes = new LabelCap(maxLabelValues);
  return {
    registry,
    observe(r: Row) {
      const model = models.value(r.model);
      const team = teams.value(r.team);
      const status = statusClass(r.status);
      requests.inc({ model, team, status, error_type: r.errorType ? errorTypes.value(r.errorType) : "" });
      if (r.promptTokens) tokens.inc({ model, team, type: "input" }, r.promptTokens);
      if (r.completionTokens) tokens.inc({ model, team, type: "output" }, r.completionTokens);
      duration.observe({ model, team, status }, r.durationMs / 1000);
      if (r.ttftMs !== null && r.ttftMs !== undefined) ttft.observe({ model, team }, r.ttftMs / 1000);
    },
  };
}

/** A spread of calls: every status class, error types, missing usage, bucket edges, odd labels. */
function mixedCalls(): Row[] {
  const rows: Row[] = [];
  const teams = ["ml", "back\\slash", 'quo"te', "search", "new\nline", null, "t6", "t7"];
  const models = ["meta-llama/Llama-3.1-8B-Instruct", "Qwen/Qwen3-32B", null, "m4", "m5"];
  const durations = [0, 1, 49, 50, 51, 100, 250, 999, 1000, 2500, 7_000, 60_000, 120_000, 120_001, 3_600_000];
  const statuses: Array<[number, string | null]> = [
    [200, null],
    [200, null],
    [429, "insufficient_credit"],
    [400, "invalid_request_error"],
    [499, "client_closed_request"],
    [500, "upstream_error"],
    [502, "http_502"],
    [503, "shutdown_aborted"],
    [404, "e9"],
    [201, null],
  ];
  for (let i = 0; i < 600; i++) {
    const [status, errorType] = statuses[(i * 7) % statuses.length]!;
    rows.push(
      row({
        model: models[(i * 3) % models.length]!,
        team: teams[(i * 5) % teams.length]!,
        status,
        errorType,
        promptTokens: i % 11 === 0 ? null : i % 13 === 0 ? 0 : 10 + (i % 17),
        completionTokens: i % 7 === 0 ? null : (i * 31) % 400,
        durationMs: durations[i % durations.length]!,
        ttftMs: i % 3 === 0 ? durations[(i * 2) % durations.length]! / 10 : null,
      }),
    );
  }
  return rows;
}

describe("CallMetrics exposition", () => {
  it("writes byte for byte what prom-client writes for the same calls, label cap and escaping included", async () => {
    const ours = new CallMetrics(6, RECORDER);
    const reference = promClientReference(6, RECORDER);
    expect(await ours.text()).toBe(await reference.registry.metrics());
    for (const r of mixedCalls()) {
      ours.observe(r);
      reference.observe(r);
    }
    const text = await ours.text();
    expect(text).toBe(await reference.registry.metrics());
    expect(ours.contentType).toBe(reference.registry.contentType);
    // The comparison covers the cases it is meant to: folded values, escaped labels, tail buckets.
    expect(text).toContain('team="(other)"');
    expect(text).toContain('team="quo\\"te"');
    expect(text).toContain('team="back\\\\slash"');
    expect(text).toContain('team="new\\nline"');
    expect(text).toContain('_bucket{le="120",model="meta-llama/Llama-3.1-8B-Instruct"');
  });

  it("folds label values past the cap into (other) with exact counts", async () => {
    const metrics = new CallMetrics(2, RECORDER);
    const calls: Array<{ team: string; model: string; errorType: string | null; tokens: number }> = [];
    for (let i = 0; i < 1_000; i++) {
      calls.push({ team: `team-${i % 9}`, model: `model-${i % 5}`, errorType: i % 4 === 0 ? `err-${i % 6}` : null, tokens: 1 + (i % 10) });
    }
    for (const c of calls) {
      metrics.observe(row({ team: c.team, model: c.model, status: c.errorType ? 500 : 200, errorType: c.errorType, promptTokens: c.tokens, durationMs: 5, ttftMs: 1 }));
    }
    {
      const m = readScrape(await metrics.text());
      // The first two values seen keep their names, whichever label they belong to.
      expect(m.values("tollbooth_requests_total", "team")).toEqual(new Set(["team-0", "team-1", "(other)"]));
      expect(m.values("tollbooth_requests_total", "model")).toEqual(new Set(["model-0", "model-1", "(other)"]));
      expect(m.values("tollbooth_requests_total", "error_type")).toEqual(new Set(["", "err-0", "err-4", "(other)"]));
      const expected = (pick: (c: (typeof calls)[number]) => boolean, of: (c: (typeof calls)[number]) => number = () => 1) =>
        calls.filter(pick).reduce((a, c) => a + of(c), 0);
      const kept = (v: string, first: string[]) => first.includes(v);
      const otherTeam = (c: (typeof calls)[number]) => !kept(c.team, ["team-0", "team-1"]);
      const otherModel = (c: (typeof calls)[number]) => !kept(c.model, ["model-0", "model-1"]);
      expect(m.sum("tollbooth_requests_total")).toBe(calls.length);
      expect(m.sum("tollbooth_requests_total", { team: "(other)" })).toBe(expected(otherTeam));
      expect(m.sum("tollbooth_requests_total", { team: "team-1" })).toBe(expected((c) => c.team === "team-1"));
      expect(m.sum("tollbooth_requests_total", { model: "(other)", team: "(other)" })).toBe(expected((c) => otherTeam(c) && otherModel(c)));
      expect(m.sum("tollbooth_requests_total", { error_type: "(other)" })).toBe(expected((c) => c.errorType !== null && !kept(c.errorType, ["err-0", "err-4"])));
      expect(m.sum("tollbooth_tokens_total", { team: "(other)", type: "input" })).toBe(expected(otherTeam, (c) => c.tokens));
      expect(m.sum("tollbooth_request_duration_seconds_count", { team: "(other)", status: "5xx" })).toBe(expected((c) => otherTeam(c) && c.errorType !== null));
      expect(m.sum("tollbooth_time_to_first_token_seconds_count", { model: "(other)" })).toBe(expected(otherModel));
      // 3 × 3 model-team pairs × (2xx, 5xx), each with at most 3 error types: the series stay bounded.
      expect(m.samples.filter((s) => s.name === "tollbooth_requests_total").length).toBeLessThanOrEqual(3 * 3 * 4);
    }
  });
});
