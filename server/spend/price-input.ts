import { MoneyError, parseUsdToMicro } from "../money.ts";
import { parseInstant } from "../time.ts";
import { badParam, timeParam } from "./query-params.ts";
import type { NewPrice } from "./prices-store.ts";

// Validation of POST /api/prices bodies. Hand-written rather than zod so each failure names its
// field with the money or time rule it broke (a float, a negative, 7 decimals, no offset…).

const FIELDS = ["model", "input_usd_per_mtok", "output_usd_per_mtok", "effective_from"] as const;

export function parseNewPrice(body: unknown, tz: string, now: number): NewPrice {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badParam("body", "must be a JSON object");
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!(FIELDS as readonly string[]).includes(key)) throw badParam(key.slice(0, 60), `unknown field (allowed: ${FIELDS.join(", ")})`);
  }
  if (typeof b.model !== "string" || b.model.trim() === "" || b.model.length > 256) {
    throw badParam("model", "must be a model id string, as callers send it (e.g. meta-llama/Llama-3.1-8B-Instruct)");
  }
  const money = (field: "input_usd_per_mtok" | "output_usd_per_mtok") => {
    if (b[field] === undefined) throw badParam(field, 'is required (USD per 1M tokens as a decimal string, e.g. "0.03")');
    try {
      return parseUsdToMicro(b[field]);
    } catch (err) {
      if (err instanceof MoneyError) throw badParam(field, err.message);
      throw err;
    }
  };
  let effectiveFrom = now;
  if (b.effective_from !== undefined) {
    if (typeof b.effective_from !== "string") throw badParam("effective_from", "must be an ISO 8601 string");
    const text = b.effective_from;
    effectiveFrom = timeParam("effective_from", () => parseInstant(text, tz));
  }
  return {
    model: b.model,
    inputMicroPerMtok: money("input_usd_per_mtok"),
    outputMicroPerMtok: money("output_usd_per_mtok"),
    effectiveFrom,
    source: "admin",
    createdAt: now,
  };
}
