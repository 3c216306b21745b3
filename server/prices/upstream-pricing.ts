import { MoneyError, parseUsdToMicro, usdNumberToMicro } from "../money.ts";

// Reads prices out of Nscale's GET /v1/models answer. Public client code shows each model as
// {id, object:"model", owned_by, pricing:{input, output}, context_length} with USD per 1M tokens
// (docs/nscale.md, "Models and prices"); `pricing` is undocumented, so every field is treated as
// optional.

export interface UpstreamPrice {
  model: string;
  inputMicroPerMtok: number;
  outputMicroPerMtok: number;
}

export interface ParsedPricing {
  prices: UpstreamPrice[];
  /** One line per model entry that was skipped, with the reason. */
  skipped: string[];
}

export function parseModelsPricing(body: unknown): ParsedPricing {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new Error("GET /models: answer has no data array");
  const out: ParsedPricing = { prices: [], skipped: [] };
  for (const [i, entry] of (data as unknown[]).entries()) {
    const id = (entry as { id?: unknown } | null)?.id;
    if (typeof id !== "string" || id === "") {
      out.skipped.push(`entry ${i}: no model id`);
      continue;
    }
    const pricing = (entry as { pricing?: unknown }).pricing;
    if (pricing === undefined || pricing === null) {
      out.skipped.push(`${id}: no pricing`);
      continue;
    }
    try {
      const { input, output } = pricing as { input?: unknown; output?: unknown };
      out.prices.push({ model: id, inputMicroPerMtok: usdToMicro(input, "input"), outputMicroPerMtok: usdToMicro(output, "output") });
    } catch (err) {
      if (!(err instanceof MoneyError)) throw err;
      out.skipped.push(`${id}: malformed pricing (${err.message})`);
    }
  }
  return out;
}

// Upstream may send prices as JSON numbers or as strings; both are read exactly.
function usdToMicro(value: unknown, field: string): number {
  try {
    if (typeof value === "number") return usdNumberToMicro(value);
    if (typeof value === "string") return parseUsdToMicro(value);
  } catch (err) {
    if (err instanceof MoneyError) throw new MoneyError(`pricing.${field} ${err.message}`);
    throw err;
  }
  throw new MoneyError(`pricing.${field} is missing`);
}
