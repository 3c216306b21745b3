import { createHash } from "node:crypto";
import pg from "pg";
import type { TickClaimOptions, TickClaims, TickOutcome } from "./tick-claims.ts";

// The tick claim on PostgreSQL, where every instance's scheduler fires every job.
//
// The claim is a session-level advisory lock per job, taken with pg_try_advisory_lock on one
// connection of this instance's own (not a pooled one), and a "done up to" mark per job in
// job_state. A run goes:
//   1. try the job's lock; then (a separate statement, so it sees what the last holder
//      committed before it unlocked) read the job's mark;
//   2. mark ≥ tick: another instance did this tick or a later one, skip;
//   3. not locked: the job is running elsewhere; look again (every pollMs at most) until the mark shows
//      the tick done (the holder finished) or the lock is ours (the holder finished an older
//      tick, or died), so a tick is never lost because the instance that had it died;
//   4. locked and not done: run the work, write the mark, unlock.
// The work runs on the instance's ordinary pool in its own short transactions (rollup steps,
// retention chunks, one report delivery at a time) and makes network calls (GET /models, SMTP),
// so it cannot run inside the claim's transaction; the claim only has to say who works.
//
// Why a session lock on a dedicated connection rather than the alternatives:
// - A transaction-level lock (pg_try_advisory_xact_lock) or a row lock (FOR UPDATE SKIP LOCKED
//   on a claim row) lasts as long as a transaction, so the claim would be a transaction left
//   idle for the whole job: deployments set idle_in_transaction_session_timeout, which would end
//   it (and the claim) mid-job, and a row lock gives the transaction an xid, which holds back
//   the rollup's commit watermark (server/usage/rollups/postgres/commit-watermark.ts) for as
//   long as the job runs. It would also take a pooled connection per running job.
// - A claim row with a lease frees itself only when the lease runs out, so a dead instance's
//   tick waits for the lease, and a live job longer than its lease needs a heartbeat or runs
//   twice. A session lock ends with the session: when the process dies (SIGKILL, OOM, crash)
//   its socket closes, PostgreSQL ends the backend and every lock it held is free at once.
// - The care a session lock needs: it must never sit on a pooled connection (it would stay with
//   the connection and pass to whoever checks it out next, and unlocking from another connection
//   is a no-op), and it is re-entrant within its session (a second pg_try_advisory_lock on the
//   same connection succeeds), hence one connection owned here and `running` below, which keeps
//   one instance from claiming a job it is already running. The connection is idle between
//   statements, not idle in a transaction, so no timeout ends it and it holds back no xmin.
// - pg-boss or graphile-worker would add a job queue, their own schema and migrations, and
//   polling workers, for five cron jobs whose work is already idempotent; node-cron's own
//   `distributed` coordinator elects a runner per tick but has no takeover when it dies.
//
// What it does not promise: a job's effects are exactly once because each job is idempotent
// (the rollup's watermark, retention deleting only what is still there, the price sync adding
// only changed prices, report deliveries' own unique claims, alerts firing once per threshold);
// the claim makes each tick run once in the normal case and makes a dead holder's tick run again.
// If the claim's connection breaks while this instance still runs the job (the database
// restarted), another instance may start the same job beside it; the jobs' own transactions keep
// that correct, and the mark is only ever moved forward.

/** First half of the two-int4 advisory key; the one-bigint keys (migrations, immediate transactions) are a separate key space. */
const CLAIM_CLASS = 7316;
const DEFAULT_POLL_MS = 1_000;
/** First wait of an instance that found the job running: most runs (a quiet rollup tick) take milliseconds. */
const FIRST_POLL_MS = 25;

/** Second half of the key: the job's name hashed to an int4, the same in every instance. */
function jobKey(job: string): number {
  return createHash("sha256").update(job).digest().readInt32BE(0);
}

/** job_state row: the latest tick of this job that an instance finished. */
export function tickDoneName(job: string): string {
  return `tick_done:${job}`;
}

export class PgTickClaims implements TickClaims {
  private connecting: Promise<pg.Client> | null = null;
  /** Jobs this instance is claiming or running (the session lock alone would let it in twice). */
  private readonly running = new Set<string>();
  private closed = false;
  private readonly pollMs: number;
  private readonly wakeups = new Set<() => void>();

  constructor(
    private readonly url: string,
    opts: TickClaimOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  }

  /** The claim connection, opened on first use and again after it broke. */
  private connection(): Promise<pg.Client> {
    if (this.connecting) return this.connecting;
    // A process that dies has its socket closed by its kernel, and the server ends the session at
    // once. A machine that vanishes (power loss, partition) closes nothing: the server notices
    // only through its own TCP keepalive (tcp_keepalives_idle, see the README), and keepAlive
    // here is the same on our side, so a lost server fails the next claim instead of hanging.
    const client = new pg.Client({ connectionString: this.url, application_name: "tollbooth-jobs", keepAlive: true, connectionTimeoutMillis: 10_000 });
    const forget = () => {
      if (this.connecting === opened) this.connecting = null;
    };
    // A broken connection took its locks with it (the server ended the session): forget it, the
    // next claim opens a new one.
    client.on("error", forget);
    client.on("end", forget);
    const opened = client.connect().then(
      () => client,
      (err: unknown) => {
        forget();
        throw err;
      },
    );
    this.connecting = opened;
    return opened;
  }

  /** Drop the connection and with it every lock this instance holds (the failure path). */
  private async dropConnection(client: pg.Client): Promise<void> {
    if (this.connecting) {
      const current = await this.connecting.catch(() => null);
      if (current === client) this.connecting = null;
    }
    await client.end().catch(() => {});
  }

  async runOnce<T>(job: string, tick: number, work: () => Promise<T>): Promise<TickOutcome<T>> {
    // Already claiming or running it here: node-cron's noOverlap normally keeps a tick from
    // starting while the last one runs, this keeps the re-entrant session lock honest regardless.
    if (this.running.has(job)) return { ran: false, why: "running-here" };
    this.running.add(job);
    try {
      const key = jobKey(job);
      let wait = Math.min(FIRST_POLL_MS, this.pollMs);
      for (;;) {
        if (this.closed) return { ran: false, why: "closed" };
        const client = await this.connection();
        const locked = (await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS locked", [CLAIM_CLASS, key])).rows[0]!.locked;
        let done: number;
        try {
          done = await readDone(client, job);
        } catch (err) {
          if (locked) await this.dropConnection(client);
          throw err;
        }
        if (done >= tick) {
          if (locked) await this.unlock(client, key);
          return { ran: false, why: "done-elsewhere" };
        }
        if (locked) return { ran: true, result: await this.runHolding(client, job, key, tick, work) };
        // Doubling up to pollMs: a short run is seen finished at once (a follower still waiting
        // when its own next tick fires makes node-cron skip that tick), a long one costs a cheap
        // query per pollMs.
        await this.sleep(wait);
        wait = Math.min(this.pollMs, wait * 2);
      }
    } finally {
      this.running.delete(job);
    }
  }

  /** The work, then the mark, then the unlock: a holder that dies before the mark leaves the tick to the next claimer. */
  private async runHolding<T>(client: pg.Client, job: string, key: number, tick: number, work: () => Promise<T>): Promise<T> {
    let result: T | undefined;
    let failure: { err: unknown } | null = null;
    try {
      result = await work();
    } catch (err) {
      failure = { err };
    }
    try {
      // Monotonic: an instance whose clock lags never moves the mark back.
      await client.query(
        "INSERT INTO job_state (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = GREATEST(job_state.value, EXCLUDED.value)",
        [tickDoneName(job), tick],
      );
      await this.unlock(client, key);
    } catch {
      // The mark or the unlock failed: end the session so the lock cannot outlive this run (a
      // lock left on a live connection would stop the job everywhere). Without the mark the
      // next claimer runs the tick again, which the jobs' own idempotence makes harmless.
      await this.dropConnection(client);
    }
    if (failure) throw failure.err;
    return result as T;
  }

  private async unlock(client: pg.Client, key: number): Promise<void> {
    await client.query("SELECT pg_advisory_unlock($1, $2)", [CLAIM_CLASS, key]);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakeups.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakeups.add(wake);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of [...this.wakeups]) wake();
    // Ending the session frees the locks of runs still in progress, as if this instance had
    // died: their ticks stay unmarked, so another instance runs them. Waiting for them instead
    // would hold a shutdown for as long as a retention run takes.
    const client = await this.connecting?.catch(() => null);
    this.connecting = null;
    await client?.end().catch(() => {});
  }
}

async function readDone(client: pg.Client, job: string): Promise<number> {
  const row = (await client.query<{ value: string }>("SELECT value::text AS value FROM job_state WHERE name = $1", [tickDoneName(job)])).rows[0];
  return row ? Number(row.value) : Number.NEGATIVE_INFINITY;
}
