import type { IncomingHttpHeaders } from "node:http";
import { credentialForms } from "../recorder/scrub.ts";
import { headerValue } from "./inbound.ts";

// What the caller authenticated with. The proxy forwards it untouched and stores only a
// fingerprint of it (fingerprint.ts); the value itself must never reach a stored row or a log,
// even where upstream echoes it back in a form no pattern recognises (a key without a known
// prefix, JSON-escaped, inside an error message).

const SCHEME_ONLY = /^(?:bearer|basic|token|digest)$/i;

/**
 * The credential in an Authorization header without its scheme, so that `Bearer x` and
 * `bearer   x` are the same key; a header with no scheme is the credential itself.
 */
export function credentialOf(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const value = authorization.trim();
  const space = value.search(/\s/);
  if (space === -1) return value === "" || SCHEME_ONLY.test(value) ? null : value;
  return value.slice(space).trim();
}

/** The caller's secrets, turned into the forms to scrub only when something is stored. */
export class CallerSecrets {
  private forms: string[] | null = null;

  constructor(
    private readonly authorization: string | undefined,
    private readonly apiKeys: ReadonlyArray<string | undefined>,
  ) {}

  /** `upstreamKey`: tollbooth's own key (UPSTREAM_API_KEY), which upstream may echo back too. */
  static fromHeaders(headers: IncomingHttpHeaders, upstreamKey?: string): CallerSecrets {
    return new CallerSecrets(headerValue(headers.authorization), [headerValue(headers["x-api-key"]), headerValue(headers["api-key"]), upstreamKey]);
  }

  /** Every form of every secret the caller sent, longest first (see credentialForms). */
  get all(): readonly string[] {
    this.forms ??= credentialForms([...this.values(), ...this.apiKeys]);
    return this.forms;
  }

  private values(): string[] {
    const credential = credentialOf(this.authorization);
    if (credential === null) return [];
    if (!/^basic\s/i.test(this.authorization!.trimStart())) return [credential];
    // Basic: upstream may echo the decoded "user:password", or the password alone.
    const decoded = Buffer.from(credential, "base64").toString("utf8");
    const password = decoded.slice(decoded.indexOf(":") + 1);
    return [credential, decoded, password];
  }
}
