import { shortKeyId } from "../../server/keys/key-label.ts";
import { useKeyNames } from "./key-names.ts";
import { colorClass, usePalette } from "./palette.ts";

// Small inline pieces every page uses.

/** A UTC instant; app.js rewrites the text into the viewer's local time (the title keeps UTC). */
export function Time({ iso, short = false }: { iso: string; short?: boolean }) {
  const utc = `${iso.slice(0, 19).replace("T", " ")} UTC`;
  return (
    <time datetime={iso} title={utc} data-local={short ? "short" : ""}>
      {utc}
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
