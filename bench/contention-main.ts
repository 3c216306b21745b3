import { runContentionBench } from "./contention-bench.ts";

// `npm run bench:contention`: the contention benchmark on its own.
await runContentionBench();
