import { sql } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import type { Db } from "../db/open.ts";
import type { Logger } from "../log.ts";
import { PriceBook } from "../prices/price-book.ts";
import { loadKeyEntries, touchKeys } from "../keys/keys-store.ts";
import { loadBudgetRules } from "./budgets-store.ts";
import { readControlVersion } from "./control-version.ts";
import { grantLeases } from "./lease-grants.ts";
import type { SpendReport, SpendSnapshot, SpendUpdate } from "./spend-messages.ts";

// Spend control on the writer thread: it keeps the serving thread's copy of keys, hard budgets and
// prices current, and answers its lease reports. Polling one counter every POLL_MS is what makes a
// revoke made through any instance (any process on the file) take effect everywhere within
// about POLL_MS plus one message.

const POLL_MS = 250;
/** Re-sent at least this often even when nothing changed: prices in effect move with time. */
const REFRESH_MS = 60_000;

export class SpendWriter {
  private version = -1;
  private priceVersion = "";
  private sentAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private failing = false;

  constructor(
    private readonly db: () => Db,
    private readonly instance: string,
    private readonly clock: Clock,
    private readonly send: (update: SpendUpdate) => void,
    private readonly log: Logger,
  ) {}

  /** Sends the first snapshot at once (before the server listens), then polls. */
  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async poll(): Promise<void> {
    try {
      const db = this.db();
      const version = await readControlVersion(db);
      const prices = await db.get<{ top: number | null; n: number }>(sql`SELECT MAX(id) AS top, COUNT(*) AS n FROM prices`);
      const priceVersion = `${prices?.top ?? 0}:${prices?.n ?? 0}`;
      const now = this.clock.now();
      if (version === this.version && priceVersion === this.priceVersion && now - this.sentAt < REFRESH_MS) return;
      this.send({ type: "snapshot", snapshot: await this.snapshot(db, now) });
      this.version = version;
      this.priceVersion = priceVersion;
      this.sentAt = now;
      this.failing = false;
    } catch (err) {
      // The serving thread keeps the last snapshot it has; a key revoked meanwhile stays valid
      // until the database can be read again (logged once per outage).
      if (!this.failing) this.log.error(`spend control: cannot read keys and budgets: ${(err as Error).message}`);
      this.failing = true;
    }
  }

  async report(report: SpendReport): Promise<void> {
    const now = this.clock.now();
    try {
      if (report.keysUsed.length > 0) await touchKeys(this.db(), report.keysUsed);
      const grants = report.leases.length > 0 ? await grantLeases(this.db(), this.instance, report.leases, now) : [];
      this.send({ type: "grants", reportId: report.id, grants });
    } catch (err) {
      // Fail closed: no room is granted while the database refuses the lease write.
      this.log.error(`spend control: cannot renew budget leases: ${(err as Error).message}`);
      this.send({ type: "grants", reportId: report.id, grants: report.leases.map((l) => ({ budgetId: l.budgetId, periodStart: l.periodStart, granted: 0, othersHeld: 0 })) });
    }
  }

  private async snapshot(db: Db, now: number): Promise<SpendSnapshot> {
    const book = await PriceBook.load(db);
    const models = (await db.all<{ model: string }>(sql`SELECT DISTINCT model FROM prices`)).map((r) => r.model);
    const prices: SpendSnapshot["prices"] = {};
    for (const model of models) {
      const p = book.priceAt(model, now);
      if (p) prices[model] = [p.inputMicroPerMtok, p.outputMicroPerMtok];
    }
    return { keys: await loadKeyEntries(db, now), budgets: await loadBudgetRules(db), prices };
  }
}
