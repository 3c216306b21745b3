// A stable colour per model (or team, key…) across every chart and table: the name hashes to an
// index into the palette defined once in app.css (--mc-0 … --mc-15), which app.js reads for
// charts and the .mc-N classes use for swatches. Same name, same colour, on every page and load.
// 16 colours: a hash cannot avoid every clash, but with the handful of models a team uses the
// odds of two sharing a colour stay low while each colour is still easy to tell apart.

export const PALETTE_SIZE = 16;

/** FNV-1a: tiny, well-spread for short strings, and the same on every run (unlike a Map order). */
export function colorIndex(name: string | null): number {
  if (name === null) return -1;
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
