import { isatty } from "node:tty";
import pino, { type DestinationStream } from "pino";
import pretty from "pino-pretty";
import { scrubSecrets } from "./recorder/scrub.ts";

// pino: one JSON object per line on stderr (stdout stays clean for CLI output), or a readable
// line when stderr is a terminal. Every thread makes its own logger writing straight to fd 2
// (synchronously, as before: a line is out before a process.exit that follows it), so a worker's
// lines do not wait on the main thread's event loop.

/** Extra fields of a line (request id, job, duration…): flat values only. */
type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Whether lines of `level` are written: lets a per-call caller skip building their fields. */
  enabled(level: Exclude<LogLevel, "silent">): boolean;
}

const LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LEVELS)[number];

/** `destination` is for tests; by default stderr, pretty when it is a terminal. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const out = destination ?? (isatty(2) ? pretty({ destination: 2, sync: true }) : pino.destination({ fd: 2, sync: true }));
  const base = pino(
    {
      level,
      // pid and hostname on every line are noise for a single process; the level as a word.
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    out,
  );
  const at = (l: Exclude<LogLevel, "silent">) => (msg: string, fields?: LogFields) => {
    // Checked first: a disabled level (debug, per call, by default) costs one comparison.
    if (!base.isLevelEnabled(l)) return;
    // Messages carry upstream errors and stacks, which can echo a caller's key: scrubbed here,
    // so no call site can forget it.
    base[l](fields ? scrubFields(fields) : {}, scrubSecrets(msg));
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), enabled: (l) => base.isLevelEnabled(l) };
}

function scrubFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const key in fields) {
    const v = fields[key];
    out[key] = typeof v === "string" ? scrubSecrets(v) : v;
  }
  return out;
}
