import { parseArgs } from "node:util";
import { ConfigError } from "../config.ts";
import { maskDatabaseUrl } from "../db/engine.ts";
import { DemoError, startDemo } from "./demo.ts";

// `npm run demo [-- --reset] [--rate N] [--days N] [--seed N]`: reads process.env like
// server/main.ts, prints where to look, and stops cleanly on Ctrl-C / SIGTERM.

const USAGE = "usage: npm run demo -- [--reset] [--rate CALLS_PER_SECOND] [--days N] [--seed N]";

function readArgs() {
  try {
    return parseArgs({
      options: { reset: { type: "boolean" }, rate: { type: "string" }, days: { type: "string" }, seed: { type: "string" }, help: { type: "boolean", short: "h" } },
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

async function main() {
  const args = readArgs();
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const number = (name: string, value: string | undefined, fallback: number, min: number, max: number) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) {
      console.error(`--${name} must be a number from ${min} to ${max}\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  const options = {
    env: process.env,
    reset: args.reset === true,
    liveRate: number("rate", args.rate, 2, 0, 50),
    days: number("days", args.days, 90, 1, 400),
    seed: number("seed", args.seed, 42, 0, 2 ** 32 - 1),
  };

  console.log(options.reset ? "tollbooth demo: starting over with a fresh database…" : "tollbooth demo: starting…");
  const interrupted = () => {
    console.error("\ntollbooth demo: interrupted during start-up (a half-seeded database needs `npm run demo -- --reset`)");
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  let announced = false;
  const onSeedProgress = (calls: number, upTo: number) => {
    if (!announced) console.log(`seeding ${options.days} days of history (first run only; written through the recorder)…`);
    announced = true;
    if (calls % 50_000 === 0) console.log(`  ${calls.toLocaleString("en-GB")} calls, up to ${new Date(upTo).toISOString().slice(0, 10)}`);
  };
  let demo: Awaited<ReturnType<typeof startDemo>>;
  try {
    demo = await startDemo({ ...options, onSeedProgress });
  } catch (err) {
    if (err instanceof DemoError || err instanceof ConfigError) {
      console.error(`tollbooth demo: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }

  const history = demo.seeded
    ? `seeded ${demo.seeded.calls.toLocaleString("en-GB")} calls over ${options.days} days in ${(demo.seeded.ms / 1000).toFixed(1)} s`
    : `reused (${demo.calls.toLocaleString("en-GB")} calls; \`npm run demo -- --reset\` starts over)`;
  console.log(
    [
      "",
      "tollbooth demo is running (upstream: the built-in Nscale simulator, nothing leaves this machine)",
      "",
      `  dashboard        ${demo.url}/   (sign in with the admin token)`,
      `  admin token      ${demo.adminToken}`,
      `  client base URL  ${demo.url}/v1   (any Bearer key; X-Tollbooth-Team/-Project/-User headers attribute calls)`,
      `  database         ${maskDatabaseUrl(demo.config.DATABASE_URL)}: ${history}`,
      `  live traffic     ${options.liveRate > 0 ? `about ${options.liveRate} calls/s through the proxy` : "off"}`,
      "",
      `  try: curl -s ${demo.url}/api/requests?limit=5 -H "Authorization: Bearer ${demo.adminToken}"`,
      "",
      "Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );

  process.off("SIGINT", interrupted);
  process.off("SIGTERM", interrupted);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the demo (finishing calls in flight)…`);
    demo.stop().then(
      () => {
        console.log(`stopped; ${demo.traffic?.sent ?? 0} live calls sent this run`);
        process.exit(0);
      },
      (err) => {
        console.error(`shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

void main();
