// A stable colour per model (or team, key…) across every chart and table: an index into the
// palette defined once in app.css (--mc-0 … --mc-15), which app.js reads for charts and the .mc-N
// classes use for swatches. Same name, same colour, on every page and load.
//
// Models get the palette in the order they were first used (assignModelColors, fed from the
// rollups by server/dashboard/model-colors.ts; models first used on the same UTC day by name), so
// the first 16 models never share a colour: a hash alone gave two of the demo's seven models the
// same one. Everything else (teams, keys, a
// model too new to be rolled up) hashes, which is stable but may clash.

export const PALETTE_SIZE = 16;

let assigned: ReadonlyMap<string, number> = new Map();

/** Give `models` (oldest first) palette colours in that order; the 17th wraps to the first. */
export function assignModelColors(models: readonly string[]): void {
  assigned = new Map(models.map((m, i) => [m, i % PALETTE_SIZE]));
}

export function colorIndex(name: string | null): number {
  if (name === null) return -1;
  return assigned.get(name) ?? hashIndex(name);
}

/** FNV-1a: tiny, well-spread for short strings, and the same on every run (unlike a Map order). */
function hashIndex(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % PALETTE_SIZE;
}

/** CSS class for a swatch: "mc-3", or "mc-none" for no value / "(other)". */
export function colorClass(index: number): string {
  return index < 0 ? "mc-none" : `mc-${index}`;
}
