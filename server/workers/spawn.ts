import { Worker } from "node:worker_threads";
import { StartupError } from "../startup-error.ts";

const BOOT = new URL("./boot.mjs", import.meta.url);

/** Start a worker thread running the TypeScript module `entry` with `data` as its workerData. */
export function spawnWorker<T extends object>(entry: URL, data: T, name: string): Worker {
  return new Worker(BOOT, { workerData: { ...data, entry: entry.href }, name });
}

/** Resolve with the worker's first message of `type`, or reject if it fails or exits first. */
export function firstMessage<M extends { type: string }>(worker: Worker, type: M["type"]): Promise<M> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: M) => {
      // A worker's "fatal" is a start-up failure it has already described (e.g. the database cannot be opened).
      if (m.type === "fatal") done(() => reject(new StartupError((m as unknown as { message: string }).message)));
      else if (m.type === type) done(() => resolve(m));
    };
    const onError = (err: Error) => done(() => reject(err));
    const onExit = (code: number) => done(() => reject(new Error(`worker exited with code ${code} before "${type}"`)));
    const done = (settle: () => void) => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
      settle();
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
}
