// The tokenizer's own thread (token-counter.ts starts it). Its vocabulary is a ~10 MB module whose
// first import takes 0.3–2 s of CPU (2 s at load average 20): loaded on the serving thread, that
// stalled every proxied call in flight the first time a call needed an estimate. Plain JavaScript,
// so the thread starts without registering a TypeScript loader first.
import { parentPort } from "node:worker_threads";

const encoder = (await import("llama3-tokenizer-js")).default;

// Messages: { id, texts: string[] } in, { id, counts: number[] } out (TokenCountRequest/Reply).
parentPort.on("message", ({ id, texts }) => {
  const counts = texts.map((t) => (t === "" ? 0 : encoder.encode(t, { bos: false, eos: false }).length));
  parentPort.postMessage({ id, counts });
});
