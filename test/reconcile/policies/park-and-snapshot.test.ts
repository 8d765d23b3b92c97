// A server a group parks (or resumes) in a tick is not that tick's snapshot source (issue 24 item 13): it is snapshotted parked, next tick.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { GROUP_KEY } from "../../../src/core/model/membership.ts";
import { DEFERRED_KEY } from "../../../src/store/tick-state.ts";
import { deleteAllGroups, deleteAllPolicies } from "../../support/rules.ts";
import { night, nightlyStopGroupRules, policyRules, world } from "./world.ts";

afterEach(async () => {
  await deleteAllPolicies();
  await deleteAllGroups();
  await env.RULES.delete(DEFERRED_KEY);
});

/** A power group parking by `stop` at 01:30 UTC (2 by day from 08:00) and a nightly policy over its members at the same minute. */
async function stopGroupAndPolicy() {
  const w = world();
  for (const name of ["web-1", "web-2"]) w.fake.seedServer({ name, metadata: { [GROUP_KEY]: "web" } });
  const rules = nightlyStopGroupRules();
  await w.groups.putGroup("web", rules, { author: "alice" });
  await w.policies.put("nightly", policyRules({ select: { group: "web" }, maxConcurrent: 5, maxAttempts: 1 }), { author: "alice" });
  await w.tick("2026-11-20T12:00:00Z");
  return w;
}

const createImages = (sent: Array<{ method: string; path: string }>) => sent.filter((r) => r.method === "POST" && r.path.endsWith("/action")).length;

describe("parking and a policy's snapshots in one tick", () => {
  it("the tick that parks a server sends no createImage for it; the policy shows it busy", async () => {
    const { tick, snapshotsOf } = await stopGroupAndPolicy();
    const summary = await tick("2026-11-21T01:31:00Z");
    const parks = summary.records[0]?.record?.results.filter((r) => r.step.kind === "park") ?? [];
    expect(parks).toHaveLength(2);
    const run = summary.policies?.records[0]?.record;
    expect(run?.steps.filter((s) => s.kind === "snapshot")).toEqual([]);
    expect(run?.errors).toEqual([]);
    expect(run?.status?.servers.map((s) => s.phase)).toEqual(["busy", "busy"]);
    expect(snapshotsOf("nightly")).toEqual([]);
  });

  it("the next tick snapshots the parked (stopped) servers, first attempt, no 409 burned", async () => {
    const { tick, fake, snapshotsOf } = await stopGroupAndPolicy();
    await tick("2026-11-21T01:31:00Z");
    const next = await tick("2026-11-21T01:32:00Z");
    const run = next.policies?.records[0]?.record;
    expect(run?.steps.filter((s) => s.kind === "snapshot").map((s) => s.kind === "snapshot" && s.attempt)).toEqual([1, 1]);
    expect(run?.errors).toEqual([]);
    const servers = [...fake.servers.values()].filter((s) => s.metadata[GROUP_KEY] === "web");
    expect(servers.map((s) => s.status)).toEqual(["SHUTOFF", "SHUTOFF"]);
    expect(snapshotsOf("nightly")).toEqual(servers.map((s) => `${s.id}@${night(21)}`).sort());
  });

  it("with maxAttempts 1 the night's snapshot is not lost to the parking: every server has one by 02:00", async () => {
    const { tick, sent, snapshotsOf } = await stopGroupAndPolicy();
    sent.length = 0;
    for (const at of ["01:31", "01:32", "01:40", "02:00"]) await tick(`2026-11-21T${at}:00Z`);
    expect(snapshotsOf("nightly")).toHaveLength(2);
    // Two parks and two createImage calls: nothing refused, nothing retried.
    expect(createImages(sent)).toBe(4);
  });
});
