import type { Config } from "../config.ts";

/** workerData of a reader thread. */
export interface ReaderData {
  config: Config;
  adminToken: string;
  clockBuffer: SharedArrayBuffer | null;
}

/** One HTTP request handed from the serving thread to a reader (body already read and capped). */
export interface BridgedRequest {
  type: "request";
  id: number;
  method: string;
  url: string;
  /** Raw header pairs, duplicates kept. */
  headers: [string, string][];
  body: ArrayBuffer | null;
  /** The body was over maxBodyBytes(path) and was not read: the app sees a stand-in just over it. */
  oversized: boolean;
  /** The TCP peer, for the login throttle (never taken from a header a client can set). */
  remoteAddress: string | null;
}

export interface BridgedResponse {
  type: "response";
  id: number;
  status: number;
  headers: [string, string][];
  body: ArrayBuffer | null;
}

export type FromReader = { type: "ready" } | { type: "fatal"; message: string } | BridgedResponse;
