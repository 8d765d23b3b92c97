// Properties of the snapshot planner over random image sets, members and times (fast-check).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isOwnSnapshot } from "../../../src/core/model/membership.ts";
import type { RetentionGuard } from "../../../src/core/snapshots/retention.ts";
import { imageFiring, isManualSnapshot, MAX_IMAGE_DELETES_PER_TICK, planSnapshots } from "../../../src/core/snapshots/snapshots.ts";
import type { ObservedImage } from "../../../src/core/model/types.ts";
import { image, policy, server } from "./builders.ts";

const DAY = 86_400_000;
const START = Date.parse("2026-11-01T00:00:00Z");

/** Images of several owners and states around a month of nightly firings (01:30Z = 02:30 Berlin). */
const imageArb = fc.record({
  night: fc.integer({ min: 0, max: 30 }),
  status: fc.constantFrom("active", "active", "active", "saving", "queued", "killed", "deleted"),
  owner: fc.constantFrom("own", "own", "own", "foreign", "other-group", "lookalike"),
  source: fc.constantFrom("a", "b", "gone"),
  manual: fc.boolean(),
  /** How many servers run on it (0 mostly), and whether a group names it. */
  inUse: fc.constantFrom(0, 0, 0, 0, 2),
  named: fc.constantFrom("no", "no", "no", "id", "name"),
});

type ImageSpec = { night: number; status: string; owner: string; source: string; manual: boolean; inUse: number; named: string };
interface Scenario {
  images: ImageSpec[];
  keep: number;
  nowOffsetMin: number;
  memberStatuses: string[];
}

function build(spec: ImageSpec, index: number): ObservedImage {
  const firing = new Date(START + spec.night * DAY + 90 * 60_000).toISOString();
  const marks =
    spec.owner === "foreign" ? { madeBy: null, group: null } : spec.owner === "other-group" ? { group: "api" } : spec.owner === "lookalike" ? { madeBy: "someone" } : {};
  return image({ id: `i${index}`, firing, status: spec.status, source: spec.source, manual: spec.manual, ...marks });
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  images: fc.array(imageArb, { maxLength: 40 }),
  keep: fc.integer({ min: 1, max: 8 }),
  nowOffsetMin: fc.integer({ min: 0, max: 31 * 24 * 60 }),
  memberStatuses: fc.array(fc.constantFrom("ACTIVE", "BUILD", "ERROR"), { maxLength: 3 }),
});

function run(s: Scenario) {
  const images = s.images.map(build);
  const members = s.memberStatuses.map((status, i) => server({ id: String.fromCharCode(97 + i), status }));
  const now = new Date(START + s.nowOffsetMin * 60_000);
  const guard: RetentionGuard = {
    namedById: Object.fromEntries(s.images.flatMap((spec, i) => (spec.named === "id" ? [[`i${i}`, ["api"]]] : []))),
    namedByName: Object.fromEntries(s.images.flatMap((spec, i) => (spec.named === "name" ? [[`img-i${i}`, ["db"]]] : []))),
    inUse: Object.fromEntries(s.images.flatMap((spec, i) => (spec.inUse > 0 ? [[`i${i}`, spec.inUse]] : []))),
  };
  const result = planSnapshots({ group: "web", policy: policy({ keep: s.keep }), members, images, attempts: undefined, now, guard });
  return { images, result, guard, byId: new Map(images.map((i) => [i.id, i])) };
}

describe("planSnapshots properties", () => {
  it("only ever deletes the group's own snapshots", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { result, byId } = run(s);
        for (const step of result.steps) if (step.kind === "deleteImage") expect(isOwnSnapshot(byId.get(step.imageId)!, "web")).toBe(true);
      }),
    );
  });

  it("never deletes unless the latest firing's snapshot is active", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { images, result } = run(s);
        if (!result.steps.some((st) => st.kind === "deleteImage")) return;
        const served = images.some((i) => isOwnSnapshot(i, "web") && i.status === "active" && imageFiring(i) === result.status.firing);
        expect(served).toBe(true);
      }),
    );
  });

  it("never deletes an image a group names (by id or name) or a server runs on", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { result, guard, byId } = run(s);
        for (const st of result.steps) {
          if (st.kind !== "deleteImage") continue;
          expect(guard.namedById[st.imageId]).toBeUndefined();
          expect(guard.inUse[st.imageId]).toBeUndefined();
          expect(guard.namedByName[byId.get(st.imageId)!.name]).toBeUndefined();
        }
      }),
    );
  });

  it("never deletes the latest firing's active snapshot", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { result, byId } = run(s);
        for (const st of result.steps) {
          if (st.kind !== "deleteImage") continue;
          const img = byId.get(st.imageId)!;
          expect(img.status === "active" && imageFiring(img) === result.status.firing && !isManualSnapshot(img, "web", undefined)).toBe(false);
        }
      }),
    );
  });

  it("never leaves fewer than min(keep, before) active nightly snapshots of the group, however many manual ones", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { images, result } = run(s);
        const activeOwn = images.filter((i) => isOwnSnapshot(i, "web") && i.status === "active" && !isManualSnapshot(i, "web", undefined));
        const deleted = new Set(result.steps.flatMap((st) => (st.kind === "deleteImage" ? [st.imageId] : [])));
        const left = activeOwn.filter((i) => !deleted.has(i.id)).length;
        expect(left).toBeGreaterThanOrEqual(Math.min(s.keep, activeOwn.length));
      }),
    );
  });

  it("plans at most one snapshot, from an ACTIVE member, and at most the per-tick cap of deletions", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { result } = run(s);
        const snapshots = result.steps.filter((st) => st.kind === "snapshot");
        expect(snapshots.length).toBeLessThanOrEqual(1);
        for (const st of snapshots) expect(s.memberStatuses[st.serverId.charCodeAt(0) - 97]).toBe("ACTIVE");
        expect(result.steps.filter((st) => st.kind === "deleteImage").length).toBeLessThanOrEqual(MAX_IMAGE_DELETES_PER_TICK);
      }),
    );
  });

  it("takes no snapshot while the latest firing is served (its image is active or under way)", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const first = run(s);
        if (first.result.status.phase !== "done" && first.result.status.phase !== "in-progress") return;
        expect(first.result.steps.filter((st) => st.kind === "snapshot")).toEqual([]);
      }),
    );
  });
});
