import type { Worker } from "node:worker_threads";
import type { Logger } from "../log.ts";
import { firstMessage, spawnWorker } from "./spawn.ts";
import type { BridgedRequest, BridgedResponse, FromReader, ReaderData } from "./reader-messages.ts";

interface Reader {
  worker: Worker;
  inFlight: Map<number, { resolve: (r: BridgedResponse) => void; reject: (e: Error) => void }>;
}

/**
 * A few reader threads (reader-main.ts), each with the whole dashboard app. Requests go to the
 * least busy one, except those that must share in-memory state: sign-in goes to the first, so
 * the login throttle sees every attempt. A reader that dies is replaced; its requests fail with
 * a 503 rather than hang.
 */
export class ReaderPool {
  private readers: Reader[] = [];
  private nextId = 0;
  private closing = false;

  private constructor(
    private readonly data: ReaderData,
    private readonly log: Logger,
  ) {}

  static async start(data: ReaderData, size: number, log: Logger): Promise<ReaderPool> {
    const pool = new ReaderPool(data, log);
    pool.readers = await Promise.all(Array.from({ length: size }, (_, i) => pool.spawn(i)));
    return pool;
  }

  dispatch(req: Omit<BridgedRequest, "type" | "id">, pinned: boolean): Promise<BridgedResponse> {
    const reader = pinned ? this.readers[0]! : this.leastBusy();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      reader.inFlight.set(id, { resolve, reject });
      const message: BridgedRequest = { type: "request", id, ...req };
      reader.worker.postMessage(message, req.body ? [req.body] : []);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.readers.map((r) => r.worker.terminate()));
  }

  private leastBusy(): Reader {
    let best = this.readers[0]!;
    for (const r of this.readers) if (r.inFlight.size < best.inFlight.size) best = r;
    return best;
  }

  private async spawn(slot: number): Promise<Reader> {
    const worker = spawnWorker(new URL("./reader-main.ts", import.meta.url), this.data, `tollbooth-reader-${slot}`);
    const reader: Reader = { worker, inFlight: new Map() };
    worker.on("message", (m: FromReader) => {
      if (m.type !== "response") return;
      reader.inFlight.get(m.id)?.resolve(m);
      reader.inFlight.delete(m.id);
    });
    worker.on("error", (err) => this.log.error(`reader ${slot} failed: ${err.stack ?? err.message}`));
    worker.on("exit", () => {
      for (const pending of reader.inFlight.values()) pending.reject(new Error("the dashboard thread stopped"));
      reader.inFlight.clear();
      if (this.closing) return;
      this.spawn(slot).then(
        (fresh) => {
          this.readers[slot] = fresh;
        },
        (err) => this.log.error(`reader ${slot} could not restart: ${(err as Error).message}`),
      );
    });
    await firstMessage(worker, "ready");
    return reader;
  }
}
