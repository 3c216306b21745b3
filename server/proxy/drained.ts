import type { ServerResponse } from "node:http";

/**
 * Resolves when `res` may take more bytes after a write() returned false, or when the caller has
 * gone (res.destroyed then): back-pressure for every SSE writer (the proxy's pump, the fake and
 * simulated upstreams, the benchmark's bare proxy).
 */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
