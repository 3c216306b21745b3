import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

// A real HTTP webhook receiver (node:http) that checks tollbooth's signature the way a user's
// endpoint would: HMAC-SHA256 of the raw body with the shared secret, compared in constant time.
// A body whose signature does not match is answered 401 and not kept.

interface Received {
  path: string;
  event: string | undefined;
  body: Record<string, unknown>;
}

export interface WebhookReceiver {
  url: string;
  received: Received[];
  /** Bodies refused for a bad or missing signature. */
  refused: number;
  /** Answer the next n requests with 500. */
  failNext(n: number): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  let failures = 0;
  const state = { received: [] as Received[], refused: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`);
      const given = Buffer.from(String(req.headers["x-tollbooth-signature"] ?? ""));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        state.refused++;
        res.writeHead(401).end();
        return;
      }
      if (failures > 0) {
        failures--;
        res.writeHead(500).end();
        return;
      }
      state.received.push({ path: req.url ?? "", event: req.headers["x-tollbooth-event"] as string | undefined, body: JSON.parse(raw.toString("utf8")) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: state.received,
    get refused() {
      return state.refused;
    },
    failNext: (n) => {
      failures = n;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
