import type { ReportDelivery } from "../db/schema.ts";
import type { Db } from "../db/open.ts";
import { toIso } from "../time.ts";
import { getDelivery } from "./deliveries-store.ts";

// What "Send now" on /reports tells the user: what happened to that delivery, read back from its
// row, never a blanket "sent" (without SMTP_URL the row is kept as not_sent; an SMTP error fails it).

type FlashTone = "ok" | "warn" | "err";
export interface Flash {
  tone: FlashTone;
  text: string;
}

function sendOutcome(delivery: ReportDelivery): Flash {
  switch (delivery.status) {
    case "sent":
      return { tone: "ok", text: "Report sent. It is listed under Recent deliveries." };
    case "not_sent":
      return { tone: "warn", text: "Report not sent: SMTP_URL is not configured. The rendered report is kept under Recent deliveries, marked “not sent”." };
    case "failed":
      return {
        tone: "err",
        text: `Sending failed: ${delivery.lastError ?? "unknown error"}.${delivery.nextAttemptAt ? ` It is retried at ${toIso(delivery.nextAttemptAt)}.` : ""}`,
      };
    default:
      return { tone: "warn", text: `Report ${delivery.status}; see Recent deliveries.` };
  }
}

/** The outcome of the delivery a "Send now" redirect names (?delivery=id), or null. */
export async function sendOutcomeOf(db: Db, rawId: string | undefined): Promise<Flash | null> {
  if (!rawId || !/^\d{1,15}$/.test(rawId)) return null;
  const delivery = await getDelivery(db, Number(rawId));
  return delivery ? sendOutcome(delivery) : null;
}
