import { runPagesBench } from "./pages-bench.ts";

// `npm run bench:pages`: the page benchmark on its own (bench/run.ts may call runPagesBench too).
await runPagesBench();
