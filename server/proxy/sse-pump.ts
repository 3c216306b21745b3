import type { ServerResponse } from "node:http";
import type { Dispatcher } from "undici";
import { errorBody } from "../errors.ts";
import type { RecordingClientDeps, InboundCall } from "./recording-client.ts";
import { onClientGone } from "./inbound.ts";
import { SseTap } from "./sse-tap.ts";
import { classifyUpstreamError, type UpstreamAbort } from "./upstream.ts";
import { streamUsage } from "./stream-usage.ts";

/** Where the caller's bytes go. write() resolves when more may be written (back-pressure). */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void> | void;
  end(): void;
}

export interface SsePump {
  deps: RecordingClientDeps;
  call: InboundCall;
  res: Dispatcher.ResponseData;
  stripUsageChunk: boolean;
  upstreamAbort: UpstreamAbort;
  headerId: string | null;
}

/**
 * Pass an upstream SSE body to the caller as it arrives, tapping it, and record the call once
 * whichever way the stream ends: completed, error event, upstream cut or stalled (in-band error
 * event, 502/504), or caller gone (upstream aborted, 499 with the tokens seen so far).
 */
export async function pumpSse(p: SsePump, sink: ByteSink): Promise<void> {
  const { call, res, deps } = p;
  const tap = new SseTap(p.stripUsageChunk, () => performance.now());
  const keepBody = deps.config.LOG_BODIES !== "none";
  const captured: Uint8Array[] = [];
  let capturedBytes = 0;
  let clientGone = false;
  onClientGone(call.response, () => {
    // Upstream bills for what it generates: stop it (LiteLLM #35958 recorded nothing here).
    clientGone = true;
    p.upstreamAbort.abort();
    res.body.destroy();
  });
  const send = async (bytes: Uint8Array) => {
    if (keepBody && capturedBytes <= deps.config.BODY_CAP_BYTES) {
      // No copy: every chunk is a fresh buffer (undici's reads, the tap's own encodings).
      captured.push(bytes);
      capturedBytes += bytes.byteLength;
    }
    if (!clientGone) await sink.write(bytes);
  };

  let status = res.statusCode;
  let errorType: string | null = null;
  let errorMessage: string | null = null;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      const out = tap.push(chunk);
      if (out) await send(out);
      if (clientGone) break;
    }
    const rest = tap.end();
    if (rest) await send(rest);
  } catch (err) {
    const failure = classifyUpstreamError(err, p.upstreamAbort);
    if (failure.kind !== "aborted" && !clientGone) {
      // Headers (2xx) are already out: tell the caller in-band, the way upstream would.
      status = failure.kind === "timeout" ? 504 : 502;
      errorType = failure.kind === "timeout" ? "upstream_timeout" : "upstream_stream_interrupted";
      errorMessage =
        failure.kind === "timeout"
          ? `upstream stream stalled for ${deps.config.UPSTREAM_TIMEOUT_MS} ms`
          : `upstream stream interrupted: ${failure.message}`;
      const rest = tap.end();
      if (rest) await send(rest).catch(() => {});
      await send(new TextEncoder().encode(`data: ${JSON.stringify(errorBody(errorMessage, errorType, status))}\n\n`)).catch(() => {});
    }
  }
  if (clientGone || p.upstreamAbort.aborted) {
    status = 499;
    errorType = "client_closed_request";
    errorMessage = "client closed the connection mid-stream";
  }
  const { usage, usageSource } = await streamUsage(tap, call.json);
  const inStream = tap.error;
  call.tracker.finish({
    status,
    errorType: errorType ?? inStream?.type ?? null,
    errorMessage: errorMessage ?? inStream?.message ?? null,
    usage,
    usageSource,
    ttftMs: tap.firstTokenAt === null ? null : call.tracker.elapsed(tap.firstTokenAt),
    upstreamRequestId: p.headerId ?? tap.upstreamId,
    responseBody: captured.length ? Buffer.concat(captured).toString("utf8") : null,
    responseModel: tap.upstreamModel,
    outputText: () => tap.completionText(),
  });
  // Only now: the row is journaled before the caller sees the stream complete.
  sink.end();
}

export function nodeSink(out: ServerResponse): ByteSink {
  return {
    write(chunk) {
      if (out.destroyed || out.write(chunk)) return;
      return drained(out);
    },
    end() {
      if (!out.destroyed) out.end();
    },
  };
}

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
