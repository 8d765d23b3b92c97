// Issue 14: retention never deletes what a user needs (base images, images in use, tonight's), and manual snapshots stay apart.
import { describe, expect, it } from "vitest";
import { retentionGuard } from "../../../src/core/snapshots/retention.ts";
import { planSnapshots, type SnapshotPlanInput } from "../../../src/core/snapshots/snapshots.ts";
import type { Step } from "../../../src/core/model/types.ts";
import { at, firingOn, image, NO_GUARD, nights, policy, server } from "./builders.ts";

const TONIGHT = firingOn(26);
const tonightActive = image({ id: "tonight", firing: TONIGHT });

function plan(o: Partial<SnapshotPlanInput> = {}) {
  return planSnapshots({
    group: "web",
    policy: policy({ keep: 3 }),
    members: [server({ id: "a" }), server({ id: "b", created: "2026-11-02T00:00:00Z" })],
    images: [...nights(20, 25), tonightActive],
    attempts: undefined,
    now: at("2026-11-26T01:40:00Z"),
    guard: NO_GUARD,
    ...o,
  });
}

const deletedIds = (steps: Step[]) => steps.flatMap((s) => (s.kind === "deleteImage" ? [s.imageId] : []));
const snapshotSteps = (steps: Step[]) => steps.filter((s) => s.kind === "snapshot");

describe("retention never deletes an image a group boots from (case 1)", () => {
  it("keeps the group's older snapshot its rules name by id, past keep", () => {
    const guard = retentionGuard([{ name: "web", image: { id: "night-21" } }], []);
    const result = plan({ guard });
    expect(deletedIds(result.steps)).toEqual(["night-20", "night-22", "night-23"]);
  });

  it("keeps an older snapshot the rules name by a name that resolves to it", () => {
    const golden = { ...image({ id: "night-22", firing: firingOn(22) }), name: "web-golden" };
    const guard = retentionGuard([{ name: "web", image: "web-golden" }], []);
    const result = plan({ images: [...nights(20, 21), golden, ...nights(23, 25), tonightActive], guard });
    expect(deletedIds(result.steps)).toEqual(["night-20", "night-21", "night-23"]);
  });

  it("keeps a snapshot another group's rules name", () => {
    const guard = retentionGuard([{ name: "web", image: "cirros" }, { name: "api", image: { id: "night-20" } }], []);
    expect(deletedIds(plan({ guard }).steps)).not.toContain("night-20");
  });

  it("keeps a snapshot any server in the project was booted from, and says so in status and activity", () => {
    const booted = [1, 2, 3].map((n) => ({ ...server({ id: `s${n}`, group: null }), imageId: "night-21" }));
    const result = plan({ guard: retentionGuard([{ name: "web", image: "cirros" }], booted) });
    expect(deletedIds(result.steps)).toEqual(["night-20", "night-22", "night-23"]);
    expect(result.status.heldBack).toEqual([{ id: "night-21", name: "img-night-21", reason: expect.stringMatching(/^kept: in use by 3 servers/) }]);
    expect(result.observations).toContainEqual(expect.objectContaining({ kind: "held", imageId: "night-21", reason: expect.stringContaining("in use by 3 servers") }));
  });

  it("reports a held-back image once per firing", () => {
    const guard = retentionGuard([{ name: "web", image: { id: "night-21" } }], []);
    const first = plan({ guard });
    const again = plan({ guard, attempts: first.attempts });
    expect(again.observations.filter((o) => o.kind === "held")).toEqual([]);
    expect(again.status.heldBack.map((h) => h.id)).toEqual(["night-21"]);
  });

  it("deletes nothing without a project-wide view (a tick from the API), and leaves the firing open for the cron tick", () => {
    const result = plan({ guard: undefined });
    expect(deletedIds(result.steps)).toEqual([]);
    expect(result.attempts?.settledFor).toBeUndefined();
  });
});

describe("retention never deletes tonight's snapshot (case 2)", () => {
  it("with keep 1, a manual snapshot taken after tonight's does not push tonight's out", () => {
    const manual = image({ id: "manual", firing: "2026-11-26T01:35:00.000Z", name: "web-snapshot-manual-20261126T0135Z" });
    const result = plan({ policy: policy({ keep: 1 }), images: [...nights(24, 25), tonightActive, manual] });
    expect(deletedIds(result.steps)).toEqual(["night-24", "night-25"]);
    expect(snapshotSteps(result.steps)).toEqual([]);
  });

  it("keeps the latest firing's snapshot even when the rules alone would not (keepWeekly with a later manual one)", () => {
    const manual = image({ id: "manual", firing: "2026-11-26T01:35:00.000Z", manual: true });
    const result = plan({ policy: policy({ keep: undefined, keepMonthly: 1 }), images: [...nights(24, 25), tonightActive, manual] });
    expect(deletedIds(result.steps)).not.toContain("tonight");
  });
});

describe("a manual snapshot never stands in for the nightly one (case 3)", () => {
  it("takes the nightly snapshot although a manual one was taken within the firing's second", () => {
    const manual = image({ id: "manual", firing: TONIGHT, name: "web-snapshot-manual-20261126T0130Z" });
    const result = plan({ images: [...nights(23, 25), manual], now: at("2026-11-26T01:31:00Z") });
    expect(snapshotSteps(result.steps)).toHaveLength(1);
  });

  it("takes it too when the manual one carries the manual mark", () => {
    const manual = image({ id: "manual", firing: TONIGHT, manual: true });
    const result = plan({ images: [manual], now: at("2026-11-26T01:31:00Z") });
    expect(result.status.phase).toBe("due");
  });
});

describe("manual snapshots are kept apart (case 4, retention half)", () => {
  it("never counts manual snapshots toward keep: many repeats leave the nightly ones alone", () => {
    const manuals = [1, 2, 3, 4, 5, 6, 7].map((m) => image({ id: `m${m}`, firing: `2026-11-25T1${m}:00:00.000Z`, manual: true }));
    const result = plan({ policy: policy({ keep: 2 }), images: [...nights(22, 25), tonightActive, ...manuals] });
    expect(deletedIds(result.steps)).toEqual(["night-22", "night-23", "night-24", "m1", "m2"]);
  });

  it("bounds manual snapshots by keepManual, oldest deleted first", () => {
    const manuals = [1, 2, 3].map((m) => image({ id: `m${m}`, firing: `2026-11-25T1${m}:00:00.000Z`, manual: true }));
    const result = plan({ policy: policy({ keep: 5, keepManual: 1 }), images: [...nights(22, 25), tonightActive, ...manuals] });
    expect(deletedIds(result.steps)).toEqual(["m1", "m2"]);
  });
});
