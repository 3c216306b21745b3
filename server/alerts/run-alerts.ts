import type { Db } from "../db/database.ts";
import type { AlertRule } from "../db/schema.ts";
import type { Mailer } from "../reports/mailer.ts";
import { toIso } from "../time.ts";
import type { Channel } from "./alert-input.ts";
import { claimTransition, lastTransitions, listAlertRules, markFailed, markSent, sentChannels, takeDueEvents } from "./alerts-store.ts";
import { observe, type ObserveContext, type Observation } from "./conditions.ts";
import { sendToChannel } from "./send-alert.ts";

// The alerts job. For every enabled rule, each subject whose condition changed since its last
// transition (quiet → holding: fired; holding → quiet: resolved) is claimed as an event row, so it
// is sent once however many runs, restarts or processes see the change (alerts-store.ts). A
// subject that fired and is no longer watched (its budget deleted, the rule pointed elsewhere) is
// resolved too. Then every due event is sent to its rule's channels, with retries.

export interface AlertsRunResult {
  fired: number;
  resolved: number;
  sent: number;
  failed: number;
}

export async function runAlertRules(db: Db, now: number, mailer: Mailer | null, ctx: ObserveContext): Promise<AlertsRunResult> {
  const result: AlertsRunResult = { fired: 0, resolved: 0, sent: 0, failed: 0 };
  const rules = await listAlertRules(db);
  for (const rule of rules.filter((r) => r.enabled)) {
    const observations = await observe(db, rule, now, ctx);
    const last = await lastTransitions(db, rule.id);
    const claim = async (subject: string, transition: "fired" | "resolved", value: string, words: { title: string; body: string }, figures: Record<string, unknown>) => {
      const seq = (last.get(subject)?.seq ?? 0) + 1;
      const payload = { event: rule.kind, status: transition, rule_id: rule.id, subject, at: toIso(now), value, ...figures };
      if (await claimTransition(db, { ruleId: rule.id, subject, seq, transition, value, title: words.title, body: words.body, payload: JSON.stringify(payload) }, now)) {
        result[transition]++;
      }
    };
    const seen = new Set<string>();
    for (const o of observations) {
      seen.add(o.subject);
      const firing = last.get(o.subject)?.transition === "fired";
      if (o.active && !firing) await claim(o.subject, "fired", o.value, o.fired, o.figures);
      if (!o.active && firing) await claim(o.subject, "resolved", o.value, o.resolved, o.figures);
    }
    for (const [subject, t] of last) {
      if (t.transition === "fired" && !seen.has(subject)) await claim(subject, "resolved", "no longer watched", goneWording(t.title), {});
    }
  }
  return Object.assign(result, await sendDue(db, now, mailer, new Map(rules.map((r) => [r.id, r]))));
}

function goneWording(firedTitle: string): Observation["resolved"] {
  return { title: `${firedTitle} (resolved)`, body: "The rule no longer watches this: its budget was deleted or the rule was changed." };
}

async function sendDue(db: Db, now: number, mailer: Mailer | null, rules: Map<number, AlertRule>): Promise<{ sent: number; failed: number }> {
  const out = { sent: 0, failed: 0 };
  for (const event of await takeDueEvents(db, now)) {
    const rule = rules.get(event.ruleId);
    if (!rule) continue; // created after this run read the rules: the next run sends it
    const channels = JSON.parse(rule.channels) as Channel[];
    const done = new Set(sentChannels(event));
    const message = { eventId: String(event.id), title: event.title, body: event.body, payload: JSON.parse(event.payload) as Record<string, unknown> };
    const errors: string[] = [];
    for (const [i, channel] of channels.entries()) {
      if (done.has(i)) continue;
      try {
        await sendToChannel(channel, message, mailer);
        done.add(i);
      } catch (err) {
        errors.push(`${channel.type} ${i}: ${(err as Error).message}`);
      }
    }
    if (errors.length === 0) {
      await markSent(db, event.id, [...done], now);
      out.sent++;
    } else {
      await markFailed(db, event, [...done], errors.join("; "), now);
      out.failed++;
    }
  }
  return out;
}
