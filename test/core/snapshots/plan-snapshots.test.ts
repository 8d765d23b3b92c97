// Table tests for the pure snapshot planner: one rule per `it`.
import { describe, expect, it } from "vitest";
import { IMAGE_FIRING_KEY, IMAGE_GROUP_KEY, IMAGE_MADE_BY_KEY, IMAGE_SOURCE_SERVER_KEY, isOwnSnapshot } from "../../../src/core/model/membership.ts";
import {
  isSettled,
  MAX_IMAGE_DELETES_PER_TICK,
  planSnapshots,
  snapshotImageName,
  snapshotProperties,
  type SnapshotAttempts,
  type SnapshotPlanInput,
} from "../../../src/core/snapshots/snapshots.ts";
import { planManualSnapshot } from "../../../src/core/snapshots/manual-snapshots.ts";
import type { Step } from "../../../src/core/model/types.ts";
import { at, firingOn, image, NO_GUARD, nights, policy, server } from "./builders.ts";

const TONIGHT = firingOn(26);

function plan(o: Partial<SnapshotPlanInput> = {}) {
  return planSnapshots({
    group: "web",
    policy: policy(),
    members: [server({ id: "a" }), server({ id: "b", created: "2026-11-02T00:00:00Z" })],
    images: [],
    attempts: undefined,
    now: at("2026-11-26T01:31:00Z"),
    guard: NO_GUARD,
    ...o,
  });
}

function snapshotSteps(steps: Step[]) {
  return steps.filter((s): s is Extract<Step, { kind: "snapshot" }> => s.kind === "snapshot");
}

function deletedIds(steps: Step[]): string[] {
  return steps.flatMap((s) => (s.kind === "deleteImage" ? [s.imageId] : []));
}

function attemptsFor(firing: string, o: Partial<SnapshotAttempts> = {}): SnapshotAttempts {
  return { firing, attempts: 0, imageIds: [], failedImageIds: [], ...o };
}

describe("planSnapshots: when to take one", () => {
  it("takes a snapshot on the tick right after the firing when none exists", () => {
    const steps = snapshotSteps(plan().steps);
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ kind: "snapshot", group: "web", firing: TONIGHT, attempt: 1 });
  });

  it("catches up a missed night: a tick hours after the firing (within grace) still takes it", () => {
    const result = plan({ now: at("2026-11-26T06:00:00Z"), images: nights(20, 25) });
    expect(snapshotSteps(result.steps).map((s) => s.firing)).toEqual([TONIGHT]);
    expect(result.status.phase).toBe("due");
  });

  it("takes none on a duplicate tick: an image for the firing is still saving", () => {
    const result = plan({ images: [image({ id: "tonight", firing: TONIGHT, status: "saving" })] });
    expect(result.steps).toEqual([]);
    expect(result.status.phase).toBe("in-progress");
  });

  it("takes none when the firing's snapshot is already active", () => {
    const result = plan({ now: at("2026-11-26T03:00:00Z"), images: [image({ id: "tonight", firing: TONIGHT })] });
    expect(snapshotSteps(result.steps)).toEqual([]);
    expect(result.status.phase).toBe("done");
  });

  it("takes none outside the grace period: a firing more than graceHours ago is let go", () => {
    const result = plan({ now: at("2026-11-26T07:31:00Z"), policy: policy({ graceHours: 6 }) });
    expect(result.steps).toEqual([]);
    expect(result.status.phase).toBe("not-due");
  });

  it("still takes one at the last minute of the grace period", () => {
    const result = plan({ now: at("2026-11-26T07:30:00Z"), policy: policy({ graceHours: 6 }) });
    expect(snapshotSteps(result.steps)).toHaveLength(1);
  });

  it("does not count an image of the previous night as tonight's", () => {
    const result = plan({ images: [image({ id: "yesterday", firing: firingOn(25) })] });
    expect(snapshotSteps(result.steps)).toHaveLength(1);
  });

  it("does not count another group's image for the same firing as this group's", () => {
    const result = plan({ images: [image({ id: "api-tonight", firing: TONIGHT, group: "api" })] });
    expect(snapshotSteps(result.steps)).toHaveLength(1);
  });

  it("follows the policy's time zone: 02:30 in New York is 07:30Z", () => {
    const result = plan({ policy: policy({ timezone: "America/New_York" }), now: at("2026-11-26T08:00:00Z") });
    expect(snapshotSteps(result.steps)[0]?.firing).toBe("2026-11-26T07:30:00.000Z");
  });
});

describe("planSnapshots: identity of a snapshot", () => {
  it("names the image after the group and the firing, and marks group, source server and firing in its properties", () => {
    const step = snapshotSteps(plan().steps)[0]!;
    expect(step.imageName).toBe("web-snapshot-20261126T0130Z");
    const properties = snapshotProperties(step.group, step.serverId, step.firing);
    expect(properties).toEqual({
      [IMAGE_MADE_BY_KEY]: "novascale",
      [IMAGE_GROUP_KEY]: "web",
      [IMAGE_SOURCE_SERVER_KEY]: step.serverId,
      [IMAGE_FIRING_KEY]: TONIGHT,
    });
  });

  it("uses the policy's namePrefix when given", () => {
    expect(snapshotImageName("web", { namePrefix: "nightly-web" }, TONIGHT)).toBe("nightly-web-20261126T0130Z");
  });

  it("gives a snapshot step a reason naming the schedule and the attempt", () => {
    const step = snapshotSteps(plan().steps)[0]!;
    expect(step.reason).toContain("30 2 * * *");
    expect(step.reason).toContain("attempt 1 of 3");
  });
});

describe("planSnapshots: choosing the source server", () => {
  const members = [
    server({ id: "mid", created: "2026-11-05T00:00:00Z" }),
    server({ id: "old", created: "2026-11-01T00:00:00Z" }),
    server({ id: "new", created: "2026-11-09T00:00:00Z", metadata: { role: "primary" } }),
  ];

  it("takes the oldest ACTIVE member by default", () => {
    expect(snapshotSteps(plan({ members }).steps)[0]?.serverId).toBe("old");
  });

  it("takes the newest ACTIVE member with source 'newest'", () => {
    expect(snapshotSteps(plan({ members, policy: policy({ source: "newest" }) }).steps)[0]?.serverId).toBe("new");
  });

  it("takes a member whose metadata matches with source {metadata}", () => {
    expect(snapshotSteps(plan({ members, policy: policy({ source: { metadata: { role: "primary" } } }) }).steps)[0]?.serverId).toBe("new");
  });

  it("never takes a server that is not ACTIVE", () => {
    const result = plan({ members: [server({ id: "b", status: "BUILD" }), server({ id: "e", status: "ERROR" }), server({ id: "ok", created: "2026-11-20T00:00:00Z" })] });
    expect(snapshotSteps(result.steps)[0]?.serverId).toBe("ok");
  });

  it("never takes an ACTIVE server with a task under way (already snapshotting)", () => {
    const result = plan({ members: [server({ id: "busy", taskState: "image_snapshot" }), server({ id: "idle", created: "2026-11-20T00:00:00Z" })] });
    expect(snapshotSteps(result.steps)[0]?.serverId).toBe("idle");
  });

  it("never takes a server without the group tag, even if handed one", () => {
    const result = plan({ members: [server({ id: "stranger", group: null }), server({ id: "other", group: "api" })] });
    expect(result.steps).toEqual([]);
    expect(result.status.phase).toBe("no-source");
  });

  it("reports a notice and plans nothing when no member qualifies", () => {
    const result = plan({ members: [server({ id: "b", status: "BUILD" })] });
    expect(result.steps).toEqual([]);
    expect(result.notices.map((n) => n.code)).toEqual(["snapshot-no-source"]);
  });
});

describe("planSnapshots: failures and retries", () => {
  it("counts an image that ended killed as a failed attempt, reports it and retries", () => {
    const result = plan({
      images: [image({ id: "k1", firing: TONIGHT, status: "killed", source: "a" })],
      attempts: attemptsFor(TONIGHT, { attempts: 1, imageIds: ["k1"] }),
    });
    expect(result.observations).toEqual([expect.objectContaining({ kind: "failed", imageId: "k1" })]);
    expect(snapshotSteps(result.steps)).toEqual([expect.objectContaining({ attempt: 2 })]);
  });

  it("retries from a different member than the one whose snapshot failed", () => {
    const result = plan({ images: [image({ id: "k1", firing: TONIGHT, status: "killed", source: "a" })] });
    expect(snapshotSteps(result.steps)[0]?.serverId).toBe("b");
  });

  it("counts a killed image as an attempt even when the state was lost", () => {
    const result = plan({ images: [image({ id: "k1", firing: TONIGHT, status: "killed" })], attempts: undefined });
    expect(snapshotSteps(result.steps)[0]?.attempt).toBe(2);
  });

  it("counts an image that vanished (remembered id, no longer listed) as a failed attempt", () => {
    const result = plan({ attempts: attemptsFor(TONIGHT, { attempts: 1, imageIds: ["gone"] }) });
    expect(result.observations).toEqual([expect.objectContaining({ kind: "failed", imageId: "gone" })]);
    expect(snapshotSteps(result.steps)[0]?.attempt).toBe(2);
  });

  it("says so when an image confirmed earlier has since been deleted, and takes the night again", () => {
    const result = plan({ attempts: attemptsFor(TONIGHT, { attempts: 1, imageIds: ["t"], confirmedImageId: "t" }) });
    expect(result.observations).toEqual([expect.objectContaining({ kind: "failed", imageId: "t", reason: "snapshot image was deleted after it became active" })]);
    expect(snapshotSteps(result.steps)[0]?.attempt).toBe(2);
  });

  it("says in the reason how late a caught-up snapshot is", () => {
    const step = snapshotSteps(plan({ now: at("2026-11-26T04:00:00Z") }).steps)[0]!;
    expect(step.reason).toContain("caught up 150 min late");
  });

  it("counts a createImage call that failed outright as an attempt", () => {
    const result = plan({ attempts: attemptsFor(TONIGHT, { attempts: 2, lastError: "boom" }) });
    expect(snapshotSteps(result.steps)[0]?.attempt).toBe(3);
  });

  it("reports each failure once: a failure already reported is not reported again", () => {
    const result = plan({
      images: [image({ id: "k1", firing: TONIGHT, status: "killed" })],
      attempts: attemptsFor(TONIGHT, { attempts: 1, imageIds: ["k1"], failedImageIds: ["k1"] }),
    });
    expect(result.observations).toEqual([]);
  });

  it("stops after maxAttempts failures: an error notice and no step", () => {
    const result = plan({
      policy: policy({ maxAttempts: 2 }),
      images: [image({ id: "k1", firing: TONIGHT, status: "killed" }), image({ id: "k2", firing: TONIGHT, status: "killed", source: "b" })],
    });
    expect(result.steps).toEqual([]);
    expect(result.status.phase).toBe("exhausted");
    expect(result.notices).toEqual([expect.objectContaining({ level: "error", code: "snapshot-attempts-exhausted" })]);
  });

  it("warns that the night was missed when its attempts failed and the grace period has ended", () => {
    const result = plan({ now: at("2026-11-26T08:00:00Z"), images: [image({ id: "k1", firing: TONIGHT, status: "killed" })] });
    expect(result.steps).toEqual([]);
    expect(result.notices.map((n) => n.code)).toEqual(["snapshot-missed"]);
  });

  it("does not call a night missed when nothing was attempted (e.g. the policy was added after the grace period)", () => {
    const result = plan({ now: at("2026-11-26T08:00:00Z"), attempts: attemptsFor(TONIGHT) });
    expect(result.notices).toEqual([]);
  });

  it("forgets the previous firing's attempts when a new firing comes", () => {
    const result = plan({ attempts: attemptsFor(firingOn(25), { attempts: 3, lastError: "boom" }) });
    expect(snapshotSteps(result.steps)[0]?.attempt).toBe(1);
    expect(result.attempts).toMatchObject({ firing: TONIGHT, attempts: 0 });
  });

  it("reports the firing's image once when it becomes active", () => {
    const first = plan({ images: [image({ id: "t", firing: TONIGHT })], attempts: attemptsFor(TONIGHT, { attempts: 1, imageIds: ["t"] }) });
    expect(first.observations).toEqual([expect.objectContaining({ kind: "confirmed", imageId: "t" })]);
    const second = plan({ images: [image({ id: "t", firing: TONIGHT })], attempts: first.attempts });
    expect(second.observations).toEqual([]);
  });
});

describe("planSnapshots: retention", () => {
  const tonightActive = image({ id: "tonight", firing: TONIGHT });

  it("keeps the newest `keep` active snapshots and deletes the older ones, oldest first", () => {
    const result = plan({ images: [...nights(21, 25), tonightActive], policy: policy({ keep: 3 }) });
    expect(deletedIds(result.steps)).toEqual(["night-21", "night-22", "night-23"]);
  });

  it("deletes nothing while the group has no more than `keep` active snapshots", () => {
    const result = plan({ images: [...nights(24, 25), tonightActive], policy: policy({ keep: 3 }) });
    expect(deletedIds(result.steps)).toEqual([]);
  });

  it("never prunes before the new snapshot is active (it is still saving)", () => {
    const result = plan({ images: [...nights(18, 25), image({ id: "tonight", firing: TONIGHT, status: "saving" })] });
    expect(deletedIds(result.steps)).toEqual([]);
  });

  it("never prunes when the new snapshot failed", () => {
    const result = plan({ images: [...nights(18, 25), image({ id: "tonight", firing: TONIGHT, status: "killed" })] });
    expect(deletedIds(result.steps)).toEqual([]);
  });

  it("never prunes when tonight's snapshot was never taken (outside grace)", () => {
    const result = plan({ now: at("2026-11-26T12:00:00Z"), images: nights(18, 25) });
    expect(deletedIds(result.steps)).toEqual([]);
  });

  it("never prunes an image novascale did not make, however old", () => {
    const foreign = image({ id: "foreign", firing: firingOn(1), madeBy: null });
    const lookalike = image({ id: "lookalike", firing: firingOn(2), madeBy: "someone-else" });
    const result = plan({ images: [foreign, lookalike, ...nights(22, 25), tonightActive], policy: policy({ keep: 2 }) });
    expect(deletedIds(result.steps)).not.toContain("foreign");
    expect(deletedIds(result.steps)).not.toContain("lookalike");
  });

  it("never prunes another group's snapshots", () => {
    const api = nights(1, 10, { group: "api" }).map((i) => ({ ...i, id: `api-${i.id}` }));
    const result = plan({ images: [...api, ...nights(22, 25), tonightActive], policy: policy({ keep: 2 }) });
    expect(deletedIds(result.steps)).toEqual(["night-22", "night-23", "night-24"]);
  });

  it("only ever proposes images that are the group's own snapshots", () => {
    const mixed = [...nights(1, 25), image({ id: "f", madeBy: null, firing: firingOn(3) }), image({ id: "g", group: "api", firing: firingOn(4) }), tonightActive];
    const result = plan({ images: mixed, policy: policy({ keep: 1 }) });
    const byId = new Map(mixed.map((i) => [i.id, i]));
    for (const id of deletedIds(result.steps)) expect(isOwnSnapshot(byId.get(id)!, "web")).toBe(true);
  });

  it("survives member replacement: snapshots of servers long gone count toward keep and are pruned by age", () => {
    const fromGoneServers = [...nights(20, 22, { source: "gone-1" }), ...nights(23, 25, { source: "gone-2" })];
    const result = plan({
      members: [server({ id: "fresh" })],
      images: [...fromGoneServers, image({ id: "tonight", firing: TONIGHT, source: "fresh" })],
      policy: policy({ keep: 4 }),
    });
    expect(deletedIds(result.steps)).toEqual(["night-20", "night-21", "night-22"]);
  });

  it("takes the new snapshot from a current member when every earlier one came from replaced servers", () => {
    const result = plan({ members: [server({ id: "fresh" })], images: nights(20, 25, { source: "gone" }) });
    expect(snapshotSteps(result.steps)[0]?.serverId).toBe("fresh");
  });

  it("cleans up killed attempts once the new snapshot is active", () => {
    const killed = image({ id: "k", firing: TONIGHT, status: "killed" });
    const result = plan({ images: [killed, tonightActive], policy: policy({ keep: 3 }) });
    expect(deletedIds(result.steps)).toEqual(["k"]);
  });

  it("cleans up an earlier night's snapshot stuck in saving once tonight's is active", () => {
    const stuck = image({ id: "stuck", firing: firingOn(20), status: "saving" });
    const result = plan({ now: at("2026-11-26T03:00:00Z"), images: [stuck, tonightActive] });
    expect(deletedIds(result.steps)).toEqual(["stuck"]);
  });

  it("leaves a snapshot still saving alone while it is young (it may yet finish)", () => {
    const young = image({ id: "young", firing: firingOn(25), status: "saving", created: "2026-11-26T00:00:00Z" });
    const result = plan({ now: at("2026-11-26T03:00:00Z"), images: [young, tonightActive] });
    expect(deletedIds(result.steps)).toEqual([]);
  });

  it("deletes at most MAX_IMAGE_DELETES_PER_TICK images per tick, the oldest first", () => {
    const result = plan({ images: [...nights(1, 25), tonightActive], policy: policy({ keep: 1 }) });
    expect(deletedIds(result.steps)).toEqual(nights(1, MAX_IMAGE_DELETES_PER_TICK).map((i) => i.id));
  });

  it("gives every deleteImage step a reason naming the retention rule", () => {
    const result = plan({ images: [...nights(21, 25), tonightActive], policy: policy({ keep: 3 }) });
    for (const step of result.steps) if (step.kind === "deleteImage") expect(step.reason).toMatch(/^retention of group 'web': not kept by keepLast 3 /);
  });
});

describe("planManualSnapshot", () => {
  it("takes a snapshot now from the policy's source, named as manual", () => {
    const { step } = planManualSnapshot({ group: "web", policy: policy(), members: [server({ id: "a" })], now: at("2026-11-26T14:03:00Z"), author: "alice" });
    expect(step).toMatchObject({ kind: "snapshot", serverId: "a", imageName: "web-snapshot-manual-20261126T1403Z", firing: "2026-11-26T14:03:00.000Z" });
    expect(step?.reason).toContain("alice");
  });

  it("refuses a server that is not a member of the group", () => {
    const { step, notice } = planManualSnapshot({
      group: "web",
      policy: undefined,
      members: [server({ id: "a" }), server({ id: "x", group: "api" })],
      now: at("2026-11-26T14:03:00Z"),
      author: "alice",
      serverId: "x",
    });
    expect(step).toBeNull();
    expect(notice?.code).toBe("snapshot-no-source");
  });
});

describe("planSnapshots: settling a firing (no cloud calls until the next one)", () => {
  it("settles a firing whose snapshot is active and nothing is left to prune", () => {
    const result = plan({ images: [...nights(24, 25), image({ id: "tonight", firing: TONIGHT })], policy: policy({ keep: 3 }) });
    expect(isSettled(policy({ keep: 3 }), result.attempts, at("2026-11-26T03:00:00Z"))).toBe(true);
  });

  it("does not settle while old snapshots are still to be pruned", () => {
    const result = plan({ images: [...nights(20, 25), image({ id: "tonight", firing: TONIGHT })], policy: policy({ keep: 3 }) });
    expect(result.attempts?.settledFor).toBeUndefined();
  });

  it("does not settle while the snapshot is under way", () => {
    const result = plan({ images: [image({ id: "tonight", firing: TONIGHT, status: "saving" })] });
    expect(result.attempts?.settledFor).toBeUndefined();
  });

  it("looks again when the policy changes (e.g. a smaller keep)", () => {
    const result = plan({ images: [image({ id: "tonight", firing: TONIGHT })], policy: policy({ keep: 3 }) });
    expect(isSettled(policy({ keep: 1 }), result.attempts, at("2026-11-26T03:00:00Z"))).toBe(false);
  });

  it("looks again at the next firing", () => {
    const result = plan({ images: [image({ id: "tonight", firing: TONIGHT })] });
    expect(isSettled(policy(), result.attempts, at("2026-11-27T01:31:00Z"))).toBe(false);
  });
});
