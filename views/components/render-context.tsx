import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { KeyNames } from "../../server/keys/key-names-store.ts";
import type { ModelPalette } from "../../server/usage/palette.ts";
import { KeyNamesContext } from "./key-names.ts";
import { PaletteContext } from "./palette.ts";
import { TimeZoneContext } from "./time-zone.ts";

/**
 * What every rendering of a request shares through JSX context (the palette, the key names, the
 * page's time zone), as
 * the pages' middleware set them on `c`. The layout wraps whole pages in it and
 * server/pages/page-env.tsx wraps htmx fragments, so both always see the same values.
 */
export function RenderContext({ c, children }: { c: Context; children?: Child }) {
  return (
    <PaletteContext.Provider value={c.get("palette") as ModelPalette}>
      <KeyNamesContext.Provider value={(c.get("keyNames") as KeyNames | undefined) ?? new Map()}>
        <TimeZoneContext.Provider value={(c.get("tz") as string | undefined) ?? "UTC"}>{children}</TimeZoneContext.Provider>
      </KeyNamesContext.Provider>
    </PaletteContext.Provider>
  );
}
