import { createContext, useContext } from "hono/jsx";

// The page's one time zone: every timestamp on a page is shown in it, next to its filters and
// charts in the same zone (REPORT_TZ, or the zone a page's own tz field chose). Set by
// RenderContext from the pages' middleware, like the palette.
export const TimeZoneContext = createContext<string>("UTC");

export function usePageTimeZone(): string {
  return useContext(TimeZoneContext);
}
