import { parentPort } from "node:worker_threads";
import type { TokenCountReply, TokenCountRequest } from "./token-counter.ts";

// The tokenizer's own thread. Its vocabulary is a ~10 MB module whose first import takes 0.3–2 s
// of CPU (2 s at load average 20): loaded on the serving thread, that stalled every proxied call
// in flight the first time a call needed an estimate. Here it costs the serving thread nothing.

type Encoder = { encode(text: string, options?: { bos?: boolean; eos?: boolean }): number[] };
const encoder = (await import("llama3-tokenizer-js")).default as Encoder;

parentPort!.on("message", ({ id, texts }: TokenCountRequest) => {
  const counts = texts.map((t) => (t === "" ? 0 : encoder.encode(t, { bos: false, eos: false }).length));
  parentPort!.postMessage({ id, counts } satisfies TokenCountReply);
});
