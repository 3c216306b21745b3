import type { AlertRule } from "../db/schema.ts";
import { createMailer } from "../reports/mailer.ts";
import { toIso } from "../time.ts";
import type { Channel } from "./alert-input.ts";
import { channelTarget, sendToChannel } from "./send-alert.ts";

// "Send a test" of a rule: one message to each of its channels (or to one), once, no retry,
// and what each answered, so the page and the API can say exactly what happened.

export interface TestSendResult {
  channel: number;
  type: Channel["type"];
  target: string;
  ok: boolean;
  detail: string;
}

export async function testSend(rule: AlertRule, opts: { smtpUrl: string | undefined; from: string; now: number; only?: number }): Promise<TestSendResult[]> {
  const channels = JSON.parse(rule.channels) as Channel[];
  const mailer = opts.smtpUrl && channels.some((c) => c.type === "email") ? createMailer(opts.smtpUrl, opts.from) : null;
  const message = {
    eventId: `test-${rule.id}-${opts.now}`,
    title: `tollbooth: test of alert rule #${rule.id} (${rule.kind})`,
    body: `This is a test of tollbooth alert rule #${rule.id} (${rule.kind}), sent at ${toIso(opts.now)}. Nothing has fired.`,
    payload: { event: "test", status: "test", rule_id: rule.id, kind: rule.kind, at: toIso(opts.now) },
  };
  const results: TestSendResult[] = [];
  try {
    for (const [i, channel] of channels.entries()) {
      if (opts.only !== undefined && opts.only !== i) continue;
      const base = { channel: i, type: channel.type, target: channelTarget(channel) };
      try {
        results.push({ ...base, ok: true, detail: await sendToChannel(channel, message, mailer) });
      } catch (err) {
        results.push({ ...base, ok: false, detail: (err as Error).message });
      }
    }
  } finally {
    mailer?.close();
  }
  return results;
}
