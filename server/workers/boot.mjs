// Entry of every worker thread: the main thread runs TypeScript through tsx (`node --import tsx`)
// or vitest, and neither hands its loader to a new thread, so each worker registers tsx itself
// before importing its real entry (given in workerData.entry).
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
