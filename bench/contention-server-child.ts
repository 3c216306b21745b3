import { serveParent } from "./child-rpc.ts";
import { startOnDataSet } from "./data-set-server.ts";

// The real server on a copy of the cached data set, in its own process, for the contention
// benchmark. It is driven only from outside, over HTTP (proxied calls, dashboard pages, /api,
// /healthz), so the benchmark measures the same thing whichever thread or process inside the
// server ends up running the database work. BENCH_SERVER_ENV (JSON) is the phase's own settings:
// cron jobs off, or the rollup scheduled at given seconds.

const dbPath = process.env.BENCH_DB_PATH;
const upstream = process.env.BENCH_UPSTREAM_URL;
if (!dbPath || !upstream) throw new Error("BENCH_DB_PATH and BENCH_UPSTREAM_URL are required");
const extra = JSON.parse(process.env.BENCH_SERVER_ENV ?? "{}") as Record<string, string>;

const server = await startOnDataSet(dbPath, "contention", { UPSTREAM_BASE_URL: upstream, ...extra });
serveParent({ url: server.url, adminToken: server.adminToken }, { close: () => server.close() });
