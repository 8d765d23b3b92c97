// maxAttempts counts every createImage call (issue 24 item 14): the ones Nova refuses outright too, at most maxAttempts per server per night.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { DEFERRED_KEY } from "../../../src/store/tick-state.ts";
import { deleteAllGroups, deleteAllPolicies } from "../../support/rules.ts";
import { policyRules, world } from "./world.ts";

afterEach(async () => {
  await deleteAllPolicies();
  await deleteAllGroups();
  await env.RULES.delete(DEFERRED_KEY);
});

/** Ticks every `stepMin` minutes from 01:31 on the 21st for `count` ticks. */
async function night(tick: (at: string) => Promise<unknown>, stepMin: number, count: number) {
  const start = Date.parse("2026-11-21T01:31:00Z");
  for (let i = 0; i < count; i++) await tick(new Date(start + i * stepMin * 60_000).toISOString());
}

const createImagePosts = (sent: Array<{ method: string; path: string }>) => sent.filter((r) => r.method === "POST" && r.path.endsWith("/action")).length;

describe("maxAttempts counts createImage calls Nova refuses", () => {
  it("a 409 every time: 3 calls in the whole night with maxAttempts 3 (each retried by the client at most 4 times), then exhausted", async () => {
    const { fake, policies, tick, sent } = world();
    fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    await policies.put("pets", policyRules({ maxAttempts: 3, graceHours: 6 }), { author: "alice" });
    fake.addFault({ kind: "snapshotRefused", status: 409, times: 1000 });
    sent.length = 0;
    await night(tick, 1, 30);
    // Identical failures are folded into one activity entry with a count (issue 28): count the calls it stands for.
    const failed = (await policies.activity("pets", 100)).filter((a) => a.kind === "snapshot-failed");
    expect(failed.reduce((n, a) => n + (a.repeated?.count ?? 1), 0)).toBe(3);
    expect(createImagePosts(sent)).toBeLessThanOrEqual(3 * 4);
    const { lastRun } = await policies.get("pets");
    expect(lastRun?.status?.servers[0]?.phase).toBe("exhausted");
    expect(lastRun?.notices.map((n) => n.code)).toContain("snapshot-attempts-exhausted");
  });

  it("a 500 every time: 3 calls with maxAttempts 3 over six hours (a 500 may have acted: 15 minutes between calls)", async () => {
    const { fake, policies, tick, sent } = world();
    fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    await policies.put("pets", policyRules({ maxAttempts: 3, graceHours: 6 }), { author: "alice" });
    fake.addFault({ kind: "snapshotRefused", status: 500, times: 1000 });
    sent.length = 0;
    await night(tick, 10, 36);
    expect(createImagePosts(sent)).toBe(3);
    expect((await policies.get("pets")).lastRun?.status?.servers[0]?.phase).toBe("exhausted");
  });

  it("a refusal then a success: the snapshot is taken as attempt 2, and the next night starts again at attempt 1", async () => {
    const { fake, policies, tick, snapshotsOf } = world();
    const db = fake.seedServer({ name: "db", metadata: { backup: "nightly" } });
    await policies.put("pets", policyRules({ maxAttempts: 3 }), { author: "alice" });
    fake.addFault({ kind: "snapshotRefused", status: 400, times: 1 });
    const first = await tick("2026-11-21T01:31:00Z");
    expect(first.policies?.records[0]?.record?.errors).toHaveLength(1);
    const second = await tick("2026-11-21T01:32:00Z");
    const step = second.policies?.records[0]?.record?.steps.find((s) => s.kind === "snapshot");
    expect(step?.kind === "snapshot" && step.attempt).toBe(2);
    const nextNight = await tick("2026-11-22T01:31:00Z");
    const again = nextNight.policies?.records[0]?.record?.steps.find((s) => s.kind === "snapshot");
    expect(again?.kind === "snapshot" && again.attempt).toBe(1);
    expect(snapshotsOf("pets").filter((s) => s.startsWith(db.id))).toHaveLength(2);
  });
});
