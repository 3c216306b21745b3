import { runSpendBench } from "./spend-bench.ts";

// `npm run bench:spend`: the spend benchmark on its own (bench/run.ts may call runSpendBench too).
await runSpendBench();
