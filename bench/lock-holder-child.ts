import Database from "better-sqlite3";
import { serveParent } from "./child-rpc.ts";

// Another process holding SQLite's write lock, as a backup tool, a `sqlite3` shell left in a
// transaction or a second tollbooth on the same file would. A plain better-sqlite3 connection
// (no migrations, no pragmas beyond a long busy_timeout): "lock" takes the lock with BEGIN
// IMMEDIATE, answers once it has it, and lets go by itself after `ms` (ROLLBACK: nothing was
// written), so a parent that dies cannot leave the file locked for longer than that.

const dbPath = process.env.BENCH_DB_PATH;
if (!dbPath) throw new Error("BENCH_DB_PATH is required");
const db = new Database(dbPath);
// The server may be committing a batch when we ask; wait for it rather than fail.
db.pragma("busy_timeout = 30000");

const epochNow = () => performance.timeOrigin + performance.now();
let released: Promise<number> | null = null;

serveParent(
  {},
  {
    /** Take the write lock; answers {waitedMs, acquiredAt} (epoch ms) once it is held. */
    lock: (arg) => {
      if (released) throw new Error("already holding the lock");
      const ms = Number(arg);
      const asked = epochNow();
      db.exec("BEGIN IMMEDIATE");
      const acquiredAt = epochNow();
      released = new Promise((resolve) =>
        setTimeout(() => {
          db.exec("ROLLBACK");
          resolve(epochNow());
        }, ms),
      );
      return { waitedMs: acquiredAt - asked, acquiredAt };
    },
    /** Wait until the lock is let go; answers the release time (epoch ms). */
    released: async () => {
      if (!released) throw new Error("not holding the lock");
      const at = await released;
      released = null;
      return at;
    },
    close: async () => {
      if (released) await released;
      db.close();
    },
  },
);
