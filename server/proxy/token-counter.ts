import { Worker } from "node:worker_threads";

// Llama 3 token counts from the tokenizer thread (tokenizer-thread.mjs), started at the first
// count, or ahead of need by warmTokenizer() (shutdown calls it: the calls it cuts need estimates,
// and a cold start takes seconds on a loaded machine). Counting is rare (only calls upstream gave no usage for) and already asynchronous, so a
// message round trip costs nothing that matters, while the vocabulary never loads on the
// serving thread.

interface TokenCountRequest {
  id: number;
  texts: string[];
}
interface TokenCountReply {
  id: number;
  counts: number[];
}

let worker: Worker | null = null;
let nextId = 0;
const pending = new Map<number, { resolve: (counts: number[]) => void; reject: (err: Error) => void }>();

function tokenizer(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL("./tokenizer-thread.mjs", import.meta.url), { name: "tollbooth-tokenizer" });
  w.on("message", ({ id, counts }: TokenCountReply) => {
    pending.get(id)?.resolve(counts);
    pending.delete(id);
    if (pending.size === 0) w.unref();
  });
  const fail = (err: Error) => {
    worker = null; // the next count starts a fresh thread
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  w.on("error", fail);
  w.on("exit", (code) => fail(new Error(`tokenizer thread exited with code ${code}`)));
  // An idle tokenizer never keeps the process alive, a count in flight does (countTokens). After
  // the listeners: adding a 'message' listener refs the thread's port again, and a process whose
  // server had closed stayed up for good.
  w.unref();
  worker = w;
  return w;
}

/** Start the tokenizer thread now, if it is not running, so that later counts do not wait for it. */
export function warmTokenizer(): void {
  tokenizer();
}

/** Token counts of `texts`, in order, in one round trip to the tokenizer thread. */
export function countTokens(texts: string[]): Promise<number[]> {
  if (texts.every((t) => t === "")) return Promise.resolve(texts.map(() => 0));
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    const w = tokenizer();
    w.ref();
    w.postMessage({ id, texts } satisfies TokenCountRequest);
  });
}
