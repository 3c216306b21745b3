import { formatNanoAsDollars } from "../money.ts";
import { periodBounds } from "./budget-period.ts";
import type { BudgetRule, LeaseGrant, LeaseReport } from "./spend-messages.ts";

// Hard budgets on the serving thread, without a database: each call reserves its upper-bound cost
// out of room this process leased from the database (lease-grants.ts), and settles to its real
// cost when it ends. No call runs without reserved room, and the database never grants more room
// than the budget has left, so all processes together overshoot by at most the amount by which
// one call's real cost can exceed its bound (zero when it sets max_tokens).
//
// Room per budget and period, in nano-USD:
//   granted   everything the database granted this process;
//   committed settled costs whose call rows are committed (they count in calls from then on);
//   settling  settled costs whose rows are not committed yet;
//   reserved  upper bounds of the calls in flight.
// free = granted − committed − settling − reserved; held (what the lease row holds) = granted − committed.

/** A call waits this long for more room before it is refused on a conclusive answer... */
const LEASE_WAIT_MS = 1_000;
/**
 * ...and at most this long while the answer is not conclusive yet: the writer has not answered,
 * or this process's own settled costs are not known to be committed (the database then counts
 * them twice, as spent and as held, and answers short). The writer runs below the serving
 * thread's priority, so on a loaded machine either can take over a second; a slow writer must
 * delay a call the budget has room for, not refuse it. Past this, fail closed.
 */
const LEASE_WAIT_MAX_MS = 5_000;
/** All free room is returned to the database after this long without a call. */
const IDLE_RETURN_MS = 2_000;
/** After the database said "no more room", ask again no sooner than this (other processes may hand some back). */
const SHORT_MS = 50;

export interface BudgetScopeOf {
  keyId: string | null;
  team: string | null;
  project: string | null;
}

interface Waiter {
  need: number;
  wake: () => void;
}

class Room {
  granted = 0;
  committed = 0;
  settling = 0;
  reserved = 0;
  /** Settled costs in the order their rows were enqueued: [row sequence number, cost]. */
  readonly pending: Array<[number, number]> = [];
  waiters: Waiter[] = [];
  asking = 0;
  /** Until then (performance.now()), the last answer granted less than asked: no more room for now. */
  shortUntil = 0;
  /** With that answer, other processes held no room either: only this process's calls can free any. */
  othersEmpty = false;
  retry: NodeJS.Timeout | null = null;
  lastUse = 0;

  constructor(
    public rule: BudgetRule,
    readonly start: number,
    readonly end: number,
  ) {}

  get free(): number {
    return this.granted - this.committed - this.settling - this.reserved;
  }

  get held(): number {
    return this.granted - this.committed;
  }
}

export class BudgetExceeded {
  constructor(readonly message: string) {}
}

export interface Reservation {
  /** Settle at the real cost (0 when the call failed before it cost anything). */
  settle(costNano: number, rowSeq: number): void;
}

export class BudgetGate {
  private rules: BudgetRule[] = [];
  private readonly byScope = { key: new Map<string, BudgetRule[]>(), team: new Map<string, BudgetRule[]>(), project: new Map<string, BudgetRule[]>() };
  private readonly rooms = new Map<string, Room>();
  private needReport = false;
  private readonly current = new Map<number, Room>();

  constructor(private readonly requestReport: () => void) {}

  replaceRules(rules: readonly BudgetRule[]): void {
    this.rules = rules.filter((r) => r.hard);
    for (const map of Object.values(this.byScope)) map.clear();
    for (const r of this.rules) {
      const map = this.byScope[r.scope];
      map.set(r.target, [...(map.get(r.target) ?? []), r]);
    }
    for (const room of this.rooms.values()) {
      const rule = this.rules.find((r) => r.id === room.rule.id);
      if (rule) room.rule = rule;
      room.shortUntil = 0; // a raised amount has room again
    }
  }

  /** The hard budgets that apply to a call (usually none: then the gate costs three Map lookups). */
  rulesFor(call: BudgetScopeOf): BudgetRule[] | null {
    if (this.rules.length === 0) return null;
    const k = call.keyId === null ? undefined : this.byScope.key.get(call.keyId);
    const t = call.team === null ? undefined : this.byScope.team.get(call.team);
    const p = call.project === null ? undefined : this.byScope.project.get(call.project);
    if (!k && !t && !p) return null;
    return [...(k ?? []), ...(t ?? []), ...(p ?? [])];
  }

  /**
   * Reserve `cost` in every budget in `rules` for a call made at `now`: at once when the local
   * room covers it, else after asking the writer for more (waiting at most LEASE_WAIT_MS).
   */
  reserve(rules: readonly BudgetRule[], cost: number, now: number): Reservation | BudgetExceeded | Promise<Reservation | BudgetExceeded> {
    const rooms = rules.map((r) => this.roomOf(r, now));
    // The common case, synchronously: the room this process holds covers the call.
    if (rooms.every((room) => room.free >= cost)) return this.take(rooms, cost, now);
    return this.reserveAfterAsking(rooms, cost, now);
  }

  private async reserveAfterAsking(rooms: Room[], cost: number, now: number): Promise<Reservation | BudgetExceeded> {
    const started = performance.now();
    const deadline = started + LEASE_WAIT_MS;
    const lastChance = started + LEASE_WAIT_MAX_MS;
    for (;;) {
      const lacking = rooms.find((room) => room.free < cost);
      if (!lacking) return this.take(rooms, cost, now);
      // The database has no more room and no other process holds any. Only this process can
      // still free some: calls in flight (settling below their bound) or costs whose rows are not
      // committed yet (counted twice until the next report says so). Without either, refuse now.
      if (lacking.shortUntil > performance.now() && lacking.othersEmpty && lacking.asking === 0 && lacking.reserved === 0 && lacking.settling === 0) return exceeded(lacking);
      const t = performance.now();
      const unsure = lacking.asking > 0 || lacking.settling > 0;
      const left = (unsure ? lastChance : deadline) - t;
      if (left <= 0) return exceeded(lacking);
      await this.waitForRoom(lacking, cost, left);
    }
  }

  /** The next `n` enqueued rows committed: their settled costs now count through calls. */
  committedUpTo(recorded: number): void {
    for (const room of this.rooms.values()) {
      let moved = false;
      while (room.pending.length > 0 && room.pending[0]![0] <= recorded) {
        const [, cost] = room.pending.shift()!;
        room.settling -= cost;
        room.committed += cost;
        moved = true;
      }
      // A short answer given while these costs counted twice (spent in the database, and still
      // held here) understated the room: calls waiting ask again in this very report.
      if (moved && room.waiters.length > 0) room.shortUntil = 0;
    }
  }

  /** A report got no answer: its questions count as answered (with nothing). */
  abandonAsks(): void {
    for (const room of this.rooms.values()) room.asking = 0;
  }

  /** What the next report says about each room; asks for more where calls wait or room runs low. */
  leaseReports(now: number): LeaseReport[] {
    this.needReport = false;
    const out: LeaseReport[] = [];
    for (const [id, room] of this.rooms) {
      const live = this.rules.some((r) => r.id === room.rule.id);
      if ((!live || now >= room.end) && room.reserved === 0 && room.settling === 0) {
        this.rooms.delete(id);
        continue;
      }
      let want = 0;
      if (live && now < room.end) {
        const chunk = Math.ceil(room.rule.amountNano / 20);
        const waiting = room.waiters.reduce((s, w) => s + w.need, 0);
        // After a short answer, ask again only once SHORT_MS passed (not once per waiting call).
        if ((waiting > 0 || room.free < chunk / 2) && room.shortUntil < performance.now()) want = waiting + chunk;
        else if (room.waiters.length === 0 && room.free > 0) {
          // Room nobody here waits for goes back, so other processes can have it: all of it once
          // idle, else all but one chunk (kept for the next calls).
          const idle = now - room.lastUse > IDLE_RETURN_MS && room.reserved === 0;
          room.granted -= idle ? room.free : Math.max(0, room.free - chunk);
        }
      }
      if (want > 0) room.asking++;
      out.push({ budgetId: room.rule.id, periodStart: room.start, periodEnd: room.end, held: room.held, want });
    }
    return out;
  }

  /** The writer's answer to a report. */
  applyGrants(grants: readonly LeaseGrant[], reports: readonly LeaseReport[]): void {
    for (const report of reports) {
      const room = this.rooms.get(roomKey(report.budgetId, report.periodStart));
      if (!room) continue;
      const grant = grants.find((g) => g.budgetId === report.budgetId && g.periodStart === report.periodStart);
      const granted = grant?.granted ?? 0;
      room.granted += granted;
      if (report.want > 0) {
        room.asking = Math.max(0, room.asking - 1);
        // Another process may hand back idle room, or a budget be raised: ask again after a while.
        room.shortUntil = granted < report.want ? performance.now() + SHORT_MS : 0;
        room.othersEmpty = (grant?.othersHeld ?? 0) === 0;
      }
      const waiters = room.waiters;
      room.waiters = [];
      for (const w of waiters) w.wake();
    }
  }

  /** Whether a report should go out now (calls wait, or room ran low). */
  get wantsReport(): boolean {
    return this.needReport;
  }

  private take(rooms: Room[], cost: number, now: number): Reservation {
    for (const room of rooms) {
      room.reserved += cost;
      room.lastUse = now;
      // Ask ahead of need, so the next calls find room without waiting.
      if (room.free < room.rule.amountNano / 40 && room.shortUntil < performance.now() && room.asking === 0) this.ask();
    }
    let settled = false;
    return {
      settle: (real, rowSeq) => {
        if (settled) return;
        settled = true;
        for (const room of rooms) {
          room.reserved -= cost;
          if (real > 0) {
            room.settling += real;
            room.pending.push([rowSeq, real]);
          }
          // Room freed by a call that cost less than its bound can serve the calls waiting.
          if (room.waiters.length > 0) {
            const waiters = room.waiters;
            room.waiters = [];
            for (const w of waiters) w.wake();
          }
        }
      },
    };
  }

  private waitForRoom(room: Room, need: number, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        room.waiters = room.waiters.filter((w) => w !== waiter);
        resolve();
      }, ms);
      const waiter: Waiter = {
        need,
        wake: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      room.waiters.push(waiter);
      const wait = room.shortUntil - performance.now();
      if (wait <= 0) this.ask();
      else if (!room.retry) {
        room.retry = setTimeout(() => {
          room.retry = null;
          if (room.waiters.length > 0) this.ask();
        }, wait);
      }
    });
  }

  private ask(): void {
    this.needReport = true;
    this.requestReport();
  }

  private roomOf(rule: BudgetRule, now: number): Room {
    // The period is recomputed (a luxon call) only when the room in use has ended.
    const cached = this.current.get(rule.id);
    if (cached && now >= cached.start && now < cached.end && cached.rule === rule) return cached;
    const { start, end } = periodBounds(rule.period, rule.timezone, now);
    const key = roomKey(rule.id, start);
    let room = this.rooms.get(key);
    if (!room) {
      room = new Room(rule, start, end);
      this.rooms.set(key, room);
    }
    room.lastUse = now;
    this.current.set(rule.id, room);
    return room;
  }
}

function roomKey(budgetId: number, start: number): string {
  return `${budgetId}:${start}`;
}

function exceeded(room: Room): BudgetExceeded {
  const r = room.rule;
  return new BudgetExceeded(`Budget exceeded for ${r.scope} ${r.target} (${r.period}, ${formatNanoAsDollars(BigInt(r.amountNano))})`);
}
