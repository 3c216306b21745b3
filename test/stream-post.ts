import { Agent, request } from "node:http";

// A POST whose body is generated while it is sent (fetch would build it in memory first and
// cannot leave out content-length on purpose). Stops sending as soon as the server answers, so a
// server that cuts early is never fed the whole body; `sent` tells how far the client got.

export interface StreamPostOptions {
  /** Bytes to offer; the body is `prefix` followed by "a"s. */
  bytes: number;
  /** No content-length: Transfer-Encoding: chunked, so the server cannot tell the size up front. */
  chunked?: boolean;
  prefix?: string;
  headers?: Record<string, string>;
}

export interface StreamPostResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Body bytes the client had written when the answer arrived. */
  sent: number;
}

const CHUNK = Buffer.alloc(64 * 1024, "a");

export function streamPost(url: string, opts: StreamPostOptions): Promise<StreamPostResult> {
  return new Promise((resolve, reject) => {
    const prefix = Buffer.from(opts.prefix ?? "");
    const headers: Record<string, string> = { ...opts.headers };
    if (!opts.chunked) headers["content-length"] = String(opts.bytes);
    // A keep-alive connection of its own. Keep-alive: on a `connection: close` request Node's
    // server closes right after an early answer, and our next write meets a reset before we read
    // the answer. Of its own: after an early answer the server discards the rest of the body for
    // a while and then closes, which would kill a later request that reused the connection.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const req = request(url, { method: "POST", headers, agent });
    let sent = 0;
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      const sentAtAnswer = sent;
      const parts: Buffer[] = [];
      res.on("data", (d: Buffer) => parts.push(d));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString("utf8"), sent: sentAtAnswer });
        req.destroy();
        agent.destroy();
      });
      res.on("error", reject);
    });
    // Once the server has answered, a reset while we were still sending is the cut we expect.
    req.on("error", (err) => {
      if (answered) return;
      agent.destroy();
      reject(err);
    });
    // One chunk per event-loop turn: while the server keeps reading, write() keeps returning true
    // and a plain loop would push the whole body before it ever looked at an early answer.
    const pump = () => {
      if (answered) return;
      if (sent >= opts.bytes) return void req.end();
      const piece = sent === 0 && prefix.length > 0 ? prefix : CHUNK.subarray(0, Math.min(CHUNK.length, opts.bytes - sent));
      sent += piece.length;
      if (req.write(piece)) setImmediate(pump);
      else req.once("drain", pump);
    };
    pump();
  });
}
