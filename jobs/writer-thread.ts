import { runWriterThread } from "../server/workers/writer-main.ts";
import { startScheduler } from "./scheduler.ts";

// The writer thread's entry (spawned by server/workers/writer.ts): the server's writer (recorder,
// journal replay, write probe) running this folder's cron jobs. It lives here, not in server/,
// because jobs/ imports server/ and server/ must not import jobs/.
await runWriterThread(startScheduler);
