import type { Config } from "./config.ts";

// Operator errors at start-up (the port is taken, the address is not this machine's, the database
// cannot be opened or created) end the process with one line that names what is wrong and exit
// code 2, as a bad setting does (config.ts): no stack trace, which would bury the reason.

/** A start-up failure whose message already says what the operator must fix (e.g. a worker's "cannot open the database …"). */
export class StartupError extends Error {}

const LISTEN_REASONS: Record<string, string> = {
  EADDRINUSE: "the port is already in use (is another tollbooth running? choose another PORT)",
  EADDRNOTAVAIL: "that address is not one of this machine's (check HOST)",
  EACCES: "permission denied (ports below 1024 need privileges; choose another PORT)",
  ENOTFOUND: "the host name does not resolve (check HOST)",
  EAI_AGAIN: "the host name could not be resolved (check HOST)",
};

/** The one line for an operator error, or null for anything else (a bug, which keeps its stack). */
export function startupErrorLine(err: unknown, config: Pick<Config, "HOST" | "PORT">): string | null {
  if (err instanceof StartupError) return `tollbooth cannot start: ${err.message}`;
  const e = err as NodeJS.ErrnoException | null;
  if (!e || typeof e !== "object" || typeof e.code !== "string") return null;
  if (e.syscall === "listen" || e.syscall === "getaddrinfo" || e.code === "EADDRINUSE" || e.code === "EADDRNOTAVAIL") {
    return `tollbooth cannot listen on ${config.HOST}:${config.PORT}: ${LISTEN_REASONS[e.code] ?? e.message}`;
  }
  if (typeof e.path === "string") return `tollbooth cannot start: ${e.path}: ${e.message}`;
  return null;
}
