import type { IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import { finished } from "node:stream";
import { errorBody } from "./errors.ts";
import type { Logger } from "./log.ts";
import { sendJson } from "./proxy/inbound.ts";

/** What the proxy needs to know about a shutdown: whether tollbooth itself is cutting calls off. */
export interface ShutdownState {
  /** True once the grace period is over and open connections are being destroyed. */
  readonly cuttingOff: boolean;
}

/** After the listener closed, how long a kept-alive caller's next request has to be read. */
const IDLE_SETTLE_MS = 100;

const SHUTTING_DOWN = errorBody("tollbooth is shutting down; retry in a moment", "server_error", "shutting_down");

/**
 * Graceful stop of the one HTTP server, for /v1 and every other route alike.
 *
 * Once draining, every request that arrives (a new request on a kept-alive connection, a
 * connection accepted before the signal whose request had not been read yet, a connection
 * still arriving) is answered 503 `shutting_down` with `retry-after: 1` and `connection: close`,
 * while calls already in flight run to completion. Without this, Node's server.close() keeps
 * serving kept-alive connections as if nothing happened (until the grace period cuts them in the
 * middle of a call), and the kernel resets every connection still in the listen backlog when the
 * listening socket closes: the caller sees a reset, not an answer.
 */
export class Draining implements ShutdownState {
  private draining = false;
  private closeIdle = false;
  private closeIdleScheduled = false;
  private refused = 0;
  cuttingOff = false;
  /** Responses in progress, so a drain can ask their connections to close after them. */
  private readonly open = new Set<ServerResponse>();
  private server: Server | null = null;

  /** Wrap the server's request listener. */
  guard(inner: RequestListener): RequestListener {
    // One listener function for every response (the emitter is `this`), not a closure per call.
    const draining = this;
    function closed(this: ServerResponse) {
      draining.onResponseClosed(this);
    }
    return (req, res) => {
      if (this.draining) return this.refuse(req, res);
      this.open.add(res);
      res.on("close", closed); // emitted once per response; `on` saves once()'s wrapper
      inner(req, res);
    };
  }

  /**
   * Stop: refuse new requests, keep the listener open for `drainMs`, close it, then wait for the
   * calls in flight. At `graceMs` after the start, whatever is still open is cut (cuttingOff is
   * set first, so the proxy records those calls as cut by the shutdown, not by their callers).
   */
  async close(server: Server, opts: { drainMs: number; graceMs: number; log: Logger }): Promise<void> {
    this.server = server;
    this.draining = true;
    // Responses whose headers are not out yet carry `connection: close`, so their callers do not
    // send the next request on a connection that is about to close.
    for (const res of this.open) if (!res.headersSent) res.setHeader("connection", "close");

    const grace = setTimeout(() => {
      opts.log.warn(`shutdown: grace period of ${opts.graceMs} ms over, closing open connections`);
      this.cuttingOff = true;
      server.closeAllConnections();
    }, opts.graceMs);
    grace.unref();

    // The drain window. Closing the listening socket makes the kernel reset every connection that
    // completed its handshake but was not accepted yet, and those callers may already have sent
    // a request. So the listener stays open for a short window, answering 503, while callers hear
    // `retry-after` and go elsewhere. The window ends after an event-loop poll phase (setImmediate
    // after the timer): if the loop was busy when the timer fired, the connections queued
    // meanwhile are accepted first. A connection arriving in the microseconds between that poll
    // and the close can still be reset: nothing in Node stops the kernel completing handshakes.
    await new Promise<void>((done) => setTimeout(() => setImmediate(done), Math.min(opts.drainMs, opts.graceMs)));
    if (this.refused > 0) opts.log.info(`shutdown: answered ${this.refused} request(s) with 503 while draining`);
    await new Promise<void>((done) => {
      stopAccepting(server, done);
      // A kept-alive caller may have sent its next request an instant ago, not read yet: give it
      // a moment to be read and answered 503 before the connections idle between two requests
      // are closed. From then on a connection is closed as soon as its last response is out
      // (onResponseClosed); the server's close callback runs once the last one has gone.
      setTimeout(() => {
        this.closeIdle = true;
        server.closeIdleConnections();
      }, IDLE_SETTLE_MS).unref();
    });
    clearTimeout(grace);
  }

  private refuse(req: IncomingMessage, res: ServerResponse): void {
    this.refused++;
    // Answer once the request has been read to its end: closing a socket that still holds
    // unread bytes makes the kernel send a reset, which can overtake the 503 itself.
    req.resume();
    finished(req, () => sendJson(res, 503, SHUTTING_DOWN, { "retry-after": "1", connection: "close" }));
  }

  private onResponseClosed(res: ServerResponse): void {
    this.open.delete(res);
    // After the window, a connection whose last response started before the drain began (a
    // stream, say) is idle now: close it instead of waiting for the keep-alive timeout.
    if (!this.closeIdle || this.closeIdleScheduled) return;
    this.closeIdleScheduled = true;
    setImmediate(() => {
      this.closeIdleScheduled = false;
      this.server?.closeIdleConnections();
    });
  }
}

/**
 * Close the listening socket, calling `done` once every connection has closed too. Node's http
 * close() would also destroy, at once, every kept-alive connection between two requests, even
 * one whose next request already sits unread in its socket buffer (the caller would see a
 * reset); so its idle sweep is skipped here, and the caller sweeps a moment later.
 */
function stopAccepting(server: Server, done: () => void): void {
  const sweep = server.closeIdleConnections;
  server.closeIdleConnections = () => {};
  try {
    server.close(() => done());
  } finally {
    server.closeIdleConnections = sweep;
  }
}
