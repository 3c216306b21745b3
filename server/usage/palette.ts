// A stable colour per model (or team, key…) across every chart and table: an index into the
// palette defined once in app.css (--mc-0 … --mc-15), which app.js reads for charts and the .mc-N
// classes use for swatches. Same name, same colour, on every page and load.
//
// Models get the palette in the order they were first used (fed from the rollups by
// model-palette.ts; models first used on the same UTC day by name), so the first 16 models never
// share a colour: a hash alone gave two of the demo's seven models the same one. Everything else
// (teams, keys, a model too new to be rolled up) hashes, which is stable but may clash.

export const PALETTE_SIZE = 16;

/** An immutable palette assignment: built once per rollup, handed to each page render. */
export class ModelPalette {
  private readonly assigned: ReadonlyMap<string, number>;

  /** `modelsOldestFirst` get palette colours in that order; the 17th wraps to the first. */
  constructor(modelsOldestFirst: readonly string[] = []) {
    this.assigned = new Map(modelsOldestFirst.map((m, i) => [m, i % PALETTE_SIZE]));
  }

  /** Palette index of a name; -1 (neutral) for no value. */
  colorIndex(name: string | null): number {
    if (name === null) return -1;
    return this.assigned.get(name) ?? hashIndex(name);
  }
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
