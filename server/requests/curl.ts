import { ATTRIBUTION_HEADERS } from "../proxy/attribution.ts";
import type { RequestDetail } from "./query.ts";

// "Copy as curl" for a recorded call: replays it through tollbooth with the same attribution.
// The caller's key was never stored (docs/architecture.md, "Secrets never persist"), so the
// command names an environment variable instead; nothing secret can leak from a copied command.

/** Quote for a POSIX shell: single quotes, with each ' written as '\'' . */
function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** x-tollbooth-team → X-Tollbooth-Team: what people type. */
export function headerName(lower: string): string {
  return lower.replace(/(^|-)([a-z])/g, (_, dash: string, ch: string) => dash + ch.toUpperCase());
}

export function curlForCall(call: Pick<RequestDetail, "endpoint" | "team" | "project" | "user" | "request_body">, origin: string): string {
  const hasBody = call.request_body !== null && call.request_body !== "";
  const looksLikeGet = !hasBody && /\/models(\/|$)/.test(call.endpoint);
  const lines = [`curl ${shellQuote(origin + call.endpoint)}`, `-H "Authorization: Bearer $NSCALE_API_KEY"`];
  if (!looksLikeGet) lines.push(`-H "Content-Type: application/json"`);
  for (const field of ["team", "project", "user"] as const) {
    const value = call[field];
    if (value) lines.push(`-H ${shellQuote(`${headerName(ATTRIBUTION_HEADERS[field])}: ${value}`)}`);
  }
  if (hasBody) lines.push(`-d ${shellQuote(call.request_body!)}`);
  else if (!looksLikeGet) lines.push("-d @request.json");
  const command = lines.join(" \\\n  ");
  return !hasBody && !looksLikeGet ? `# The request body was not stored (LOG_BODIES keeps failed calls only by default).\n${command}` : command;
}
