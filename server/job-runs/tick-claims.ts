import { engineFor } from "../db/engine.ts";
import { PgTickClaims } from "./tick-claims-pg.ts";

// Who runs a cron tick's job when every instance's scheduler fires it. Each job tick is
// identified by the job's name and the instant cron scheduled it for (the same on every
// instance whose clock is about right, whenever its timer actually fires).
//
// SQLite: one server owns the file, so its scheduler is the only one; the claim is a pass-through
// and the jobs keep their own safety (BEGIN IMMEDIATE, the rollup watermark, the report delivery
// claims), which is also what keeps a job started by hand (jobs/cli.ts) correct beside it.
// PostgreSQL: see tick-claims-pg.ts.

export type TickOutcome<T> =
  /** This instance ran the job for the tick (or for a tick it found unfinished). */
  | { ran: true; result: T }
  /**
   * done-elsewhere: this tick or a later one is done; running-here: this instance is still running
   * the job (an earlier tick); closed: the scheduler is stopping.
   */
  | { ran: false; why: "done-elsewhere" | "running-here" | "closed" };

export interface TickClaims {
  /**
   * Run `work` for `job`'s tick at `tick` (epoch ms) unless that tick or a later one is done. At
   * most one instance runs a job at a time; one that finds the job running elsewhere waits until
   * the holder finishes (then the tick is done) or dies (then it runs the tick itself). A tick
   * whose work threw counts as done, as on one instance: the next tick tries again.
   */
  runOnce<T>(job: string, tick: number, work: () => Promise<T>): Promise<TickOutcome<T>>;
  /** Stop waiting and let go of every claim (on PostgreSQL a run still in progress is left to another instance). */
  close(): Promise<void>;
}

class LocalTickClaims implements TickClaims {
  async runOnce<T>(_job: string, _tick: number, work: () => Promise<T>): Promise<TickOutcome<T>> {
    return { ran: true, result: await work() };
  }
  async close(): Promise<void> {}
}

export interface TickClaimOptions {
  /** Longest wait between looks of an instance that found the job running elsewhere (ms). */
  pollMs?: number;
}

/** The claims for DATABASE_URL's engine. */
export function tickClaimsFor(databaseUrl: string, opts: TickClaimOptions = {}): TickClaims {
  const engine = engineFor(databaseUrl);
  return engine.kind === "postgres" ? new PgTickClaims(engine.url, opts) : new LocalTickClaims();
}
