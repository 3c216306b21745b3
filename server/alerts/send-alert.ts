import { createHmac } from "node:crypto";
import type { Mailer } from "../reports/mailer.ts";
import type { Channel } from "./alert-input.ts";

// Delivery of one alert to one channel. Webhook bodies are signed with HMAC-SHA256 of the exact
// bytes sent, keyed by the channel's secret: `x-tollbooth-signature: sha256=<hex>`, with the
// event id in `x-tollbooth-event` so a receiver can drop a retry it already handled.

export interface AlertMessage {
  eventId: number;
  subject: string;
  text: string;
  /** The event for JSON webhooks. */
  payload: Record<string, unknown>;
}

function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export async function sendToChannel(channel: Channel, message: AlertMessage, mailer: Mailer | null): Promise<void> {
  if (channel.type === "email") {
    if (!mailer) throw new Error("no SMTP_URL configured");
    await mailer.send({ to: channel.to, subject: message.subject, text: message.text, html: `<p>${escapeHtml(message.text)}</p>`, csv: "", csvFilename: "alert.csv", messageId: `<alert-${message.eventId}@tollbooth>` });
    return;
  }
  const body = JSON.stringify(channel.format === "slack" ? { text: message.text } : message.payload);
  const res = await fetch(channel.url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-tollbooth-signature": signature(channel.secret, body), "x-tollbooth-event": String(message.eventId) },
    body,
    signal: AbortSignal.timeout(10_000),
    redirect: "manual",
  });
  await res.arrayBuffer();
  if (res.status < 200 || res.status >= 300) throw new Error(`webhook answered ${res.status}`);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
