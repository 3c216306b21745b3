import { z } from "zod";
import { MoneyError, parseUsdToMicro } from "../money.ts";
import { parseInstant } from "../time.ts";
import { parseInput, strictBody, timeIssue } from "../validation.ts";
import type { NewPrice } from "./prices-store.ts";

// Validation of POST /api/prices bodies (and the /prices form). Each failure names its field with
// the money or time rule it broke (a float, a negative, 7 decimals, no offset…): money.ts and
// time.ts say what is wrong, the schema only says where.

const MODEL_RULE = "must be a model id string, as callers send it (e.g. meta-llama/Llama-3.1-8B-Instruct)";

const usdPerMtok = z
  .string({ error: (iss) => (iss.input === undefined ? 'is required (USD per 1M tokens as a decimal string, e.g. "0.03")' : 'must be a decimal string such as "0.03", not a number') })
  .transform((value, ctx) => {
    try {
      return parseUsdToMicro(value);
    } catch (err) {
      if (!(err instanceof MoneyError)) throw err;
      ctx.addIssue({ code: "custom", message: err.message });
      return z.NEVER;
    }
  })
  .meta({ description: "USD per 1M tokens as a decimal string (at most 6 decimals)", example: "0.03" });

/** The body schema; bare dates in effective_from are midnight in `tz`, and it defaults to now. */
export function newPriceBody(tz: string, now: () => number) {
  return strictBody({
    model: z
      .string({ error: MODEL_RULE })
      .refine((s) => s.trim() !== "" && s.length <= 256, MODEL_RULE)
      .meta({ example: "meta-llama/Llama-3.1-8B-Instruct" }),
    input_usd_per_mtok: usdPerMtok,
    output_usd_per_mtok: usdPerMtok,
    effective_from: z
      .string({ error: "must be an ISO 8601 string" })
      .optional()
      .meta({ description: "ISO 8601 instant, or YYYY-MM-DD in REPORT_TZ (default: now)" }),
  }).transform((b, ctx): NewPrice => {
    const at = now();
    const given = b.effective_from;
    // A bad effective_from adds an issue, which fails the parse whatever is returned below.
    const effectiveFrom = given === undefined ? at : timeIssue(ctx, () => parseInstant(given, tz), ["effective_from"]);
    return {
      model: b.model,
      inputMicroPerMtok: b.input_usd_per_mtok,
      outputMicroPerMtok: b.output_usd_per_mtok,
      effectiveFrom,
      source: "admin",
      createdAt: at,
    };
  });
}

export function parseNewPrice(body: unknown, tz: string, now: number): NewPrice {
  return parseInput(newPriceBody(tz, () => now), body);
}
