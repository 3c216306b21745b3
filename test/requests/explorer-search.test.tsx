import { beforeAll, describe, expect, it } from "vitest";
import { decodeCursor, type RequestFilters } from "../../server/requests/filters.ts";
import { listRequests, listRequestsBounded } from "../../server/requests/query.ts";
import { ExplorerResults, LoadMore } from "../../views/requests/requests.tsx";
import { makeCall } from "../factories.ts";
import { record, useSignedInServer } from "../pages/page-client.ts";

const app = useSignedInServer();

const MINUTE = 60_000;

describe("explorer search with a scan budget", () => {
  // 30 failed calls a minute apart in their own window; only the 3rd and the 25th newest say "needle".
  // The search is "ee": two characters, too short for the message index, so it is checked row
  // by row within the budget (a text of 3 or more is found through the index, exactly).
  const from = Date.UTC(2035, 0, 1);
  const to = from + 30 * MINUTE;
  beforeAll(async () => {
    await record(
      app.server,
      ...Array.from({ length: 30 }, (_, i) => ({
        call: makeCall({ createdAt: to - (i + 1) * MINUTE, status: 503, errorType: "server_error", errorMessage: i === 2 || i === 24 ? "a needle here" : "hay" }),
      })),
    );
  });
  const search: RequestFilters = { status: "error", q: "ee", from, to };
  const page1 = () => listRequestsBounded(app.server.db, search, 10);

  it("checks at most the budget per page, says how far back it got, and continues from there without gaps", async () => {
    const seen: number[] = [];
    let page = await listRequestsBounded(app.server.db, search, 10);
    expect(page.data.map((r) => r.created_at)).toEqual([new Date(to - 3 * MINUTE).toISOString()]);
    expect(page.searched_back_to).toBe(new Date(to - 10 * MINUTE).toISOString());
    for (let pages = 1; ; pages++) {
      seen.push(...page.data.map((r) => r.id));
      if (!page.next_cursor) {
        expect(pages).toBe(3);
        break;
      }
      page = await listRequestsBounded(app.server.db, { ...search, cursor: decodeCursor(page.next_cursor)! }, 10);
    }
    expect(seen).toEqual((await listRequests(app.server.db, search)).data.map((r) => r.id));
    expect(seen).toHaveLength(2);
  });

  it("is listRequests when the candidates fit in the budget or no row filter is set", async () => {
    expect(await listRequestsBounded(app.server.db, search, 100)).toEqual({ ...(await listRequests(app.server.db, search)), searched_back_to: null });
    const plain: RequestFilters = { status: "error", from, to, limit: 5 };
    expect(await listRequestsBounded(app.server.db, plain, 3)).toEqual({ ...(await listRequests(app.server.db, plain)), searched_back_to: null });
  });

  it("the explorer offers to search further back, from where the last page stopped", async () => {
    const empty = await listRequestsBounded(app.server.db, { ...search, to: to - 3 * MINUTE }, 10);
    expect(empty.data).toEqual([]);
    const html = String(<ExplorerResults page={empty} queryString="q=ee" error={null} origin="" unfiltered={false} />);
    expect(html).toContain("No matching calls so far.");
    expect(html).toContain(`href="/requests?q=ee&amp;cursor=${empty.next_cursor}"`);
    expect(html).toContain("Search further back");
    const some = String(<LoadMore queryString="q=ee" cursor={(await page1()).next_cursor} searchedBackTo={(await page1()).searched_back_to} />);
    expect(some).toContain("Search further back");
    expect(some).toContain((await page1()).searched_back_to!);
    // Through the route (the page's own budget is far above these 30 calls).
    const body = await (await app.user.get("/requests?q=ee&from=2035-01-01&to=2035-01-02")).text();
    expect(body.match(/<a href="\/requests\/\d+">/g)).toHaveLength(2);
  });
});
