import type { NewCall } from "../db/schema.ts";
import type { CallRecord } from "./recorder.ts";

/** What is known of a call when it is forwarded upstream: enough to record it if it never ends. */
export type CallStartRecord = Pick<
  NewCall,
  "requestId" | "createdAt" | "model" | "endpoint" | "stream" | "keyId" | "team" | "project" | "user"
>;

/** One journal line: a call's start (`s`) or its finished row (`e`). */
export type JournalLine = { s: CallStartRecord } | { e: CallRecord };

const INTERRUPTED_ERROR_TYPE = "interrupted";

/**
 * The row for a call whose start was journaled but whose end never was: tollbooth stopped (crash,
 * kill, power loss) while the call was in flight. Status 502 because the caller got no complete
 * answer from us; usage and cost are unknown, so they stay null (the call shows as unpriced
 * rather than as free).
 */
export function interruptedRow(start: CallStartRecord): CallRecord {
  return {
    call: {
      ...start,
      status: 502,
      errorType: INTERRUPTED_ERROR_TYPE,
      errorMessage: "tollbooth stopped before this call finished; recorded from its journal at the next start",
      promptTokens: null,
      completionTokens: null,
      totalTokens: null,
      usageSource: "none",
      durationMs: 0,
      ttftMs: null,
      upstreamRequestId: null,
      costNano: null,
    },
  };
}
