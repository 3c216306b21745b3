import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { firstRecordedBucket } from "../../server/alerts/traffic-figures.ts";
import { calls } from "../../server/db/schema.ts";
import { rollupPending } from "../../server/usage/rollups/buckets.ts";
import { bothEngines } from "../db/engines.ts";
import { makeCall } from "../factories.ts";

// The spend-anomaly rule compares only past weeks since recording began. That start must not
// depend on whether the rollup has taken the first calls yet (it runs every few seconds, and on
// PostgreSQL waits for any older transaction on the server), or a fresh history reads as none.

const T0 = Date.UTC(2026, 10, 3, 12);
const MIN = 60_000;

describe.each(bothEngines())("when recording began, on %s", (engine, open) => {
  it("is the first call's bucket, rolled up or not", async () => {
    const db = await open();
    if (engine === "postgres") await db.run(sql`SELECT tollbooth_ensure_calls_partitions(${T0}, 0)`);
    expect(await firstRecordedBucket(db)).toBeNull();

    await db.orm.insert(calls).values([makeCall({ createdAt: T0 + 7 * MIN }), makeCall({ createdAt: T0 + 40 * MIN })]);
    expect(await firstRecordedBucket(db)).toBe(T0); // nothing rolled up yet

    await db.transaction((tx) => rollupPending(tx));
    expect(await firstRecordedBucket(db)).toBe(T0);

    await db.orm.insert(calls).values(makeCall({ createdAt: T0 - 20 * MIN })); // a late, older call
    expect(await firstRecordedBucket(db)).toBe(T0 - 30 * MIN);
  });
});
