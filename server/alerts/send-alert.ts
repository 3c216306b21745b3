import { createHmac } from "node:crypto";
import type { Mailer } from "../reports/mailer.ts";
import type { Channel } from "./alert-input.ts";

// Delivery of one alert to one channel. Webhook bodies are signed with HMAC-SHA256 of the exact
// bytes sent, keyed by the channel's secret: `x-tollbooth-signature: sha256=<hex>`, with the
// event id in `x-tollbooth-event` so a receiver can drop a retry it already handled.

export interface AlertMessage {
  /** The event id, or "test-<rule>-<time>" for a test send. */
  eventId: string;
  title: string;
  body: string;
  /** The event for JSON webhooks. */
  payload: Record<string, unknown>;
}

function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Where a channel sends, as shown (the webhook's URL, the email addresses). */
export function channelTarget(channel: Channel): string {
  return channel.type === "email" ? channel.to.join(", ") : channel.url;
}

/** Send, or throw with what went wrong; resolves to what the other end said. */
export async function sendToChannel(channel: Channel, message: AlertMessage, mailer: Mailer | null): Promise<string> {
  if (channel.type === "email") {
    if (!mailer) throw new Error("no SMTP_URL configured");
    await mailer.send({ to: channel.to, subject: message.title, text: message.body, html: `<p>${escapeHtml(message.body)}</p>`, messageId: `<alert-${message.eventId}@tollbooth>` });
    return "accepted by the SMTP server";
  }
  const body = JSON.stringify(channel.format === "slack" ? { text: `*${message.title}*\n${message.body}` } : message.payload);
  let res: Response;
  try {
    res = await fetch(channel.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tollbooth-signature": signature(channel.secret, body), "x-tollbooth-event": message.eventId },
      body,
      signal: AbortSignal.timeout(10_000),
      redirect: "manual",
    });
  } catch (err) {
    // fetch's own message is just "fetch failed"; the reason (ECONNREFUSED, a timeout) is its cause.
    const cause = (err as Error & { cause?: Error }).cause;
    throw new Error(`webhook unreachable: ${cause?.message ?? (err as Error).message}`);
  }
  await res.arrayBuffer();
  if (res.status < 200 || res.status >= 300) throw new Error(`webhook answered ${res.status}`);
  return `answered ${res.status}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
