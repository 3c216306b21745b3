import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, inject } from "vitest";
import { connectDatabase } from "../../server/db/connect.ts";
import type { Db } from "../../server/db/database.ts";
import { sqliteClient } from "../../server/db/sqlite.ts";
import { callInserter } from "../../server/recorder/insert-statements.ts";
import { writeCallBatch } from "../../server/recorder/pg-insert.ts";
import type { CallRecord } from "../../server/recorder/recorder.ts";
import type { EngineName } from "../db/engines.ts";
import { createTestDatabase } from "../pg/throwaway-postgres.ts";
import { testPool } from "../pg/database.ts";

// Both engines with a way to record calls as the recorder writes them: on SQLite its prepared
// inserts (which also fill the FTS5 message index), on PostgreSQL its batch write. Each test gets
// a fresh, migrated database, closed and removed after the test. `createDatabase` adds words to
// PostgreSQL's CREATE DATABASE (another collation, say).

export interface CallsDb {
  db: Db;
  /** Record these calls (with bodies when given), in order, as the recorder would. */
  record(records: readonly CallRecord[]): Promise<void>;
}

type Cleanup = () => Promise<void>;

export function bothEnginesWithCalls(): [EngineName, (createDatabase?: string) => Promise<CallsDb>][] {
  const cleanups: Cleanup[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const sqlite = async (): Promise<CallsDb> => {
    const dir = mkdtempSync(join(tmpdir(), "tollbooth-requests-"));
    const db = await connectDatabase(join(dir, "t.db"), { poolMax: 1 });
    cleanups.push(async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const client = sqliteClient(db);
    const insert = callInserter(client);
    return {
      db,
      async record(records) {
        client.transaction(() => {
          for (const { call, bodies } of records) {
            const id = insert.call(call);
            if (id !== null && bodies) insert.bodies({ callId: id, requestBody: bodies.request, responseBody: bodies.response, truncated: bodies.truncated });
          }
        })();
      },
    };
  };
  const postgres = async (createDatabase?: string): Promise<CallsDb> => {
    const created = await createTestDatabase(inject("pgAdminUrl"), "requests", createDatabase);
    cleanups.push(() => created.drop());
    const db = await connectDatabase(created.url, { poolMax: 2 });
    cleanups.push(() => db.close());
    const writer = testPool(created.url, 1);
    cleanups.push(() => writer.end());
    return {
      db,
      async record(records) {
        const client = await writer.connect();
        try {
          for (let i = 0; i < records.length; i += 1_000) await writeCallBatch(client, records.slice(i, i + 1_000));
        } finally {
          client.release();
        }
      },
    };
  };
  return [
    ["sqlite", sqlite],
    ["postgres", postgres],
  ];
}
