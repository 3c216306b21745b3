import type { ServerResponse } from "node:http";
import type { Journal } from "./recorder/journal.ts";
import type { WriterThread } from "./workers/writer.ts";
import { sendJson } from "./proxy/inbound.ts";
import { toIso } from "./time.ts";

/** A writer report older than this means the writer thread is stuck (e.g. on a locked file). */
const STALE_MS = 10_000;

/**
 * GET /healthz, answered on the serving thread from what the writer thread last reported, so it
 * answers at once even while the database is locked or the disk is full. 200 when calls are
 * being committed; 503 with the reason when they are not (they are kept in the journal until
 * the database accepts them again).
 */
export function sendHealth(res: ServerResponse, writer: WriterThread, journal: Journal, now = Date.now()): void {
  const h = writer.health;
  const reasons: string[] = [];
  if (writer.failure) reasons.push(writer.failure);
  if (!h) reasons.push("database writer not started");
  else {
    if (!h.writable) reasons.push(`database not writable: ${h.error ?? "unknown error"}`);
    if (now - h.at > STALE_MS) reasons.push(`database writer has not reported for ${Math.round((now - h.at) / 1000)} s (database locked?)`);
  }
  if (journal.lastError) reasons.push(journal.lastError);
  const body = {
    status: reasons.length === 0 ? "ok" : "degraded",
    ...(reasons.length > 0 ? { reasons } : {}),
    database: h ? { writable: h.writable, error: h.error, checked_at: toIso(h.at), replay_pending: h.replayPending } : null,
    // The writer's queue: rows held in memory (at most memory_max_rows) and rows past that cap
    // waiting in the journal only, read back as the database takes them.
    recorder: h
      ? { memory_rows: h.recorder.memoryRows, memory_peak_rows: h.recorder.memoryPeakRows, memory_max_rows: h.recorder.memoryMaxRows, journal_only_rows: h.recorder.journalOnlyRows }
      : null,
    journal: { uncommitted: journal.uncommitted, dir: journal.path, error: journal.lastError },
  };
  sendJson(res, reasons.length === 0 ? 200 : 503, body, { "cache-control": "no-store" });
}
