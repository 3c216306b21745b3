import { ApiError } from "../errors.ts";

export interface Attribution {
  team: string | null;
  project: string | null;
  user: string | null;
}

export const ATTRIBUTION_HEADERS = {
  team: "x-tollbooth-team",
  project: "x-tollbooth-project",
  user: "x-tollbooth-user",
} as const;

const MAX_LENGTH = 128;
// Printable characters only: no control characters (they corrupt logs and CSV exports).
const PRINTABLE = /^[^\p{Cc}\p{Cs}\u2028\u2029]+$/u;

/** Read and validate the optional X-Tollbooth-* headers; a bad value is a 400, never stored. */
export function readAttribution(get: (name: string) => string | undefined): Attribution {
  const out: Attribution = { team: null, project: null, user: null };
  for (const [field, header] of Object.entries(ATTRIBUTION_HEADERS) as Array<[keyof Attribution, string]>) {
    const raw = get(header);
    if (raw === undefined) continue;
    const value = raw.trim();
    if (value === "") continue;
    if (value.length > MAX_LENGTH || !PRINTABLE.test(value)) {
      throw new ApiError({ status: 400, type: "invalid_request_error", code: "invalid_attribution_header", message: `${header} must be 1-${MAX_LENGTH} printable characters` });
    }
    out[field] = value;
  }
  return out;
}
