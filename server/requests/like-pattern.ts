// LIKE treats % and _ as wildcards; escape them (and the escape character, \) so a search text
// is a plain substring. Every engine's LIKE/ILIKE of `q` takes this pattern with ESCAPE '\'.
export function containsPattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, "\\$&")}%`;
}
