// The activity log: identical entries fold into one (count, first and last seen); changes have their own list and cap.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ActivityEntry } from "../../src/core/records.ts";
import { ACTIVITY_LIMIT, ActivityLog, CHANGES_LIMIT, FOLD_WINDOW_MS } from "../../src/store/activity-log.ts";

let objects = 0;
/** A fresh group object's SQLite storage, as an ActivityLog (each test its own object). */
async function withLog(work: (log: ActivityLog) => void): Promise<void> {
  objects += 1;
  const namespace = env.GROUPS as unknown as DurableObjectNamespace;
  const stub = namespace.get(namespace.idFromName(`activity-log-test-${objects}-${crypto.randomUUID()}`));
  await runInDurableObject(stub, async (_instance, state) => work(new ActivityLog(state.storage.sql)));
}

const T0 = Date.parse("2026-11-26T08:00:00Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const error = (minute: number, message = "GET /flavors/detail: 500 computeFault"): ActivityEntry => ({
  at: at(minute),
  kind: "error",
  author: "cron",
  reason: message,
  error: { operation: "list flavors", category: "transient", message, requestId: `req-${minute}` },
  tickRequestId: `req-tick-${minute}`,
});
const change = (minute: number): ActivityEntry => ({ at: at(minute), kind: "override-set", author: "alice", reason: `hold at ${minute}` });

describe("folding repeated entries", () => {
  it("74 identical errors in 15 minutes are one entry with the count and the first and last time", async () => {
    await withLog((log) => {
      for (let i = 0; i < 74; i++) log.append([error(i * (15 / 74))]);
      const entries = log.read(500);
      expect(entries).toHaveLength(1);
      expect(entries[0]?.repeated).toEqual({ count: 74, firstAt: at(0), lastAt: at(73 * (15 / 74)) });
      expect(entries[0]?.at).toBe(at(73 * (15 / 74)));
    });
  });

  it("the folded entry keeps the newest details (its request ids)", async () => {
    await withLog((log) => {
      log.append([error(0)]);
      log.append([error(1)]);
      expect(log.read(10)[0]?.tickRequestId).toBe("req-tick-1");
    });
  });

  it("a different message is its own entry", async () => {
    await withLog((log) => {
      log.append([error(0, "a")]);
      log.append([error(1, "b")]);
      expect(log.read(10).map((e) => e.reason)).toEqual(["b", "a"]);
    });
  });

  it("a repeat with other entries in between still folds, and moves to the top", async () => {
    await withLog((log) => {
      log.append([error(0, "a")]);
      log.append([{ at: at(1), kind: "boot", author: "cron", reason: "scale out", serverIds: ["s1"] }]);
      log.append([error(2, "a")]);
      const entries = log.read(10);
      expect(entries.map((e) => e.kind)).toEqual(["error", "boot"]);
      expect(entries[0]?.repeated?.count).toBe(2);
    });
  });

  it("a repeat after more than the fold window starts a new entry", async () => {
    await withLog((log) => {
      log.append([error(0)]);
      log.append([error(FOLD_WINDOW_MS / 60_000 + 1)]);
      expect(log.read(10)).toHaveLength(2);
    });
  });

  it("boots of different servers never fold", async () => {
    await withLog((log) => {
      log.append([{ at: at(0), kind: "boot", author: "cron", reason: "scale out", serverIds: ["s1"] }]);
      log.append([{ at: at(1), kind: "boot", author: "cron", reason: "scale out", serverIds: ["s2"] }]);
      expect(log.read(10)).toHaveLength(2);
    });
  });
});

describe("changes are kept apart", () => {
  it("an override set before 600 distinct errors is still listed", async () => {
    await withLog((log) => {
      log.append([change(0)]);
      for (let i = 1; i <= ACTIVITY_LIMIT + 100; i++) log.append([error(i, `error ${i}`)]);
      expect(log.read(10, "changes").map((e) => e.reason)).toEqual(["hold at 0"]);
      expect(log.read(ACTIVITY_LIMIT).some((e) => e.kind === "override-set")).toBe(false); // older than the newest 500 rows
    });
  });

  it("identical changes are never folded (each is who changed what)", async () => {
    await withLog((log) => {
      log.append([{ ...change(0), reason: "same" }]);
      log.append([{ ...change(1), reason: "same" }]);
      expect(log.read(10, "changes")).toHaveLength(2);
    });
  });

  it("the changes list has its own cap", async () => {
    await withLog((log) => {
      for (let i = 0; i < CHANGES_LIMIT + 5; i++) log.append([change(i)]);
      const kept = log.read(CHANGES_LIMIT + 5, "changes");
      expect(kept).toHaveLength(CHANGES_LIMIT);
      expect(kept.at(-1)?.reason).toBe("hold at 5");
    });
  });

  it("the full log merges both lists newest first", async () => {
    await withLog((log) => {
      log.append([error(0, "a")]);
      log.append([change(1)]);
      log.append([error(2, "b")]);
      expect(log.read(10).map((e) => e.reason)).toEqual(["b", "hold at 1", "a"]);
    });
  });
});
