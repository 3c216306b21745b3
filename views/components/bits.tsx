import { shortKeyId } from "../../server/keys/key-label.ts";
import { useKeyNames } from "./key-names.ts";
import { colorClass, usePalette } from "./palette.ts";
import { usePageTimeZone } from "./time-zone.ts";

// Small inline pieces every page uses.

const stampFormats = new Map<string, Intl.DateTimeFormat>();
/** "25 Nov, 09:00:00 BST" in `tz`: en-GB names London's zones GMT/BST and others by offset (GMT-5). */
function stampFormat(tz: string, withYear: boolean, short: boolean): Intl.DateTimeFormat {
  const key = `${tz}|${withYear}|${short}`;
  let format = stampFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat("en-GB", {
      timeZone: tz,
      ...(withYear ? { year: "numeric" } : {}),
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      ...(short ? {} : { second: "2-digit" }),
      hourCycle: "h23",
      timeZoneName: "short",
    });
    stampFormats.set(key, format);
  }
  return format;
}

/**
 * An instant in the page's zone (usePageTimeZone), with the zone's name on every stamp; the
 * title keeps the UTC instant. The year only when it is not this one.
 */
export function Time({ iso, short = false }: { iso: string; short?: boolean }) {
  const tz = usePageTimeZone();
  const at = new Date(iso);
  const withYear = stampFormat(tz, true, true).formatToParts(at).find((p) => p.type === "year")?.value !== String(new Date().getUTCFullYear());
  return (
    <time datetime={iso} title={`${iso.slice(0, 19).replace("T", " ")} UTC`}>
      {stampFormat(tz, withYear, short).format(at)}
    </time>
  );
}

/** HTTP status as a coloured badge; 499 is tollbooth's "client went away". */
export function StatusBadge({ status, errorType }: { status: number; errorType?: string | null }) {
  const kind = status >= 500 ? "err" : status >= 400 ? "warn" : errorType ? "err" : "ok";
  return (
    <span class={`badge ${kind}`} title={errorType ?? undefined}>
      {status}
      {status < 400 && errorType ? " ⚠" : ""}
    </span>
  );
}

/**
 * What a name is. Each has its own mark (model ●, team ■, project ◆, user ○): colours come from
 * one palette, so a team and a model may share a colour, but never a shape.
 */
export type NameKind = "model" | "team" | "project" | "user";

/** A name with its stable colour mark; null shows as a muted dash. */
export function Named({ name, kind, empty = "–" }: { name: string | null; kind: NameKind; empty?: string }) {
  if (name === null || name === "") return <span class="muted">{empty}</span>;
  return (
    <span class="named" title={`${kind}: ${name}`}>
      <i class={`swatch mark-${kind} ${colorClass(usePalette().colorIndex(name))}`} aria-hidden="true" />
      {name}
    </span>
  );
}

/** Key fingerprints (12 hex + ".." + last 4) shortened to "0a1b2c..wxyz"; the title keeps the whole. */
/** A key as "search-prod (fe303d..Lm4R)" when it has a name, else its short fingerprint. */
export function KeyId({ keyId }: { keyId: string | null }) {
  if (!keyId) return <span class="muted">–</span>;
  const name = useKeyNames().get(keyId);
  const short = (
    <code class="key" title={keyId}>
      {shortKeyId(keyId)}
    </code>
  );
  if (name === undefined) return short;
  return (
    <span class="key-name">
      {name} ({short})
    </span>
  );
}

/** A form's error, above its submit button; nothing when there is none. */
export function FormError({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <p class="notice err" role="alert">
      {error}
    </p>
  );
}
