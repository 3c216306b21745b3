import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

// The tokenizer thread never keeps a process alive once idle: shutdown starts it ahead of need
// (warmTokenizer), and a process whose server had closed (a benchmark, a CLI) stayed up for good,
// as adding the thread's 'message' listener after unref() took the ref back. A count in flight
// does keep it alive, or a script awaiting it would end without its answer.

describe("tokenizer thread", () => {
  it("lets a process end once its last count is answered", () => {
    const dir = mkdtempSync(join(tmpdir(), "tollbooth-tokenizer-"));
    try {
      const script = join(dir, "count.mts");
      const counter = pathToFileURL(resolve("server/proxy/token-counter.ts")).href;
      writeFileSync(
        script,
        `import { countTokens, warmTokenizer } from ${JSON.stringify(counter)};
        warmTokenizer();
        console.log((await countTokens(["hello world"]))[0] > 0 ? "counted" : "no count");`,
      );
      const child = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: process.cwd(), encoding: "utf8", timeout: 20_000 });
      expect(child.signal, "still running after 20 s, killed by the timeout").toBeNull();
      expect(child.stdout.trim(), child.stderr).toBe("counted");
      expect(child.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
