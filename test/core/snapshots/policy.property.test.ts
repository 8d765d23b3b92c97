// Properties of a snapshot policy over generated histories (fast-check): plan, apply, let images settle, repeat.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SnapshotPolicyRulesSchema } from "../../../src/config/snapshot-policy.ts";
import { IMAGE_FIRING_KEY, IMAGE_MADE_BY_KEY, IMAGE_SOURCE_SERVER_KEY } from "../../../src/core/model/membership.ts";
import { IMAGE_POLICY_KEY, planPolicySnapshots, policySnapshotProperties } from "../../../src/core/snapshots/policy-snapshots.ts";
import { isImageInProgress, retentionGuard } from "../../../src/core/snapshots/retention.ts";
import type { ObservedImage, ObservedServer } from "../../../src/core/model/types.ts";

const START = Date.parse("2026-11-01T12:00:00Z");
const SERVERS = ["a", "b", "c"];

function pet(id: string, status = "ACTIVE"): ObservedServer {
  return { id, name: `srv-${id}`, status, taskState: null, created: "2026-10-01T00:00:00Z", metadata: { backup: "nightly" } };
}

/** Images novascale did not make for policy "pets", old enough that any retention would drop them. */
const FOREIGN: ObservedImage[] = [
  { id: "f-operator", name: "operator-backup", status: "active", created: "2026-10-01T00:00:00Z", properties: {} },
  { id: "f-other", name: "other-policy", status: "active", created: "2026-10-01T00:00:00Z", properties: { ...policySnapshotProperties("other", "a", "2026-10-01T01:30:00.000Z") } },
  { id: "f-lookalike", name: "look-alike", status: "active", created: "2026-10-01T00:00:00Z", properties: { [IMAGE_POLICY_KEY]: "pets", [IMAGE_SOURCE_SERVER_KEY]: "a", [IMAGE_FIRING_KEY]: "2026-10-01T01:30:00.000Z" } },
];
const isOwn = (i: ObservedImage) => i.properties[IMAGE_MADE_BY_KEY] === "novascale" && i.properties[IMAGE_POLICY_KEY] === "pets";

const eventArb = fc.record({
  /** Minutes to the next tick: a few minutes to most of a day. */
  advanceMin: fc.constantFrom(1, 2, 5, 30, 180, 600, 1440),
  /** What each image in progress becomes by then. */
  settle: fc.array(fc.constantFrom("active", "active", "killed", "stay"), { minLength: 6, maxLength: 6 }),
  /** A server booted from the n-th own image (if any), and a group naming the m-th by name. */
  bootFrom: fc.option(fc.nat(40), { nil: undefined }),
  nameIt: fc.option(fc.nat(40), { nil: undefined }),
  /** Server "b" is gone from this tick on. */
  bGone: fc.boolean(),
});

const historyArb = fc.record({
  maxConcurrent: fc.integer({ min: 1, max: 3 }),
  retention: fc.constantFrom({ keepLast: 1 }, { keepLast: 2 }, { keepDaily: 3, keepWeekly: 2 }, { keepDaily: 2, keepMonthly: 1 }, { keepWithin: "2d" }),
  events: fc.array(eventArb, { minLength: 5, maxLength: 40 }),
});

describe("a snapshot policy over generated histories", () => {
  it("never deletes an image without this policy's marks, never a guarded one, never a server's newest active one, never a selected server's before its own new one, never two snapshots of a server for one firing", () => {
    fc.assert(
      fc.property(historyArb, ({ maxConcurrent, retention, events }) => {
        const rules = SnapshotPolicyRulesSchema.parse({ select: { metadata: { backup: "nightly" } }, cron: "30 1 * * *", timezone: "Europe/Berlin", retention, maxConcurrent, graceHours: 6 });
        let images: ObservedImage[] = [...FOREIGN];
        const guardImages: Array<{ name: string; image: string }> = [];
        const bootedFrom: string[] = [];
        let now = START;
        let next = 0;
        let bGone = false;
        for (const event of events) {
          now += event.advanceMin * 60_000;
          let k = 0;
          images = images.map((i) => (isImageInProgress(i.status) && k < event.settle.length ? { ...i, status: event.settle[k++] === "stay" ? i.status : event.settle[k - 1]! } : i));
          const own = images.filter(isOwn);
          if (event.bootFrom !== undefined && own.length > 0) bootedFrom.push(own[event.bootFrom % own.length]!.id);
          if (event.nameIt !== undefined && own.length > 0) guardImages.push({ name: `g${guardImages.length}`, image: own[event.nameIt % own.length]!.name });
          bGone ||= event.bGone;
          const servers = [...SERVERS.filter((s) => s !== "b" || !bGone).map((s) => pet(s)), ...bootedFrom.map((id, n) => ({ ...pet(`restored-${n}`), metadata: {}, imageId: id }))];
          const guard = retentionGuard(guardImages, servers);
          const plan = planPolicySnapshots({ name: "pets", rules, servers, images, now: new Date(now), guard });

          const deletes = plan.steps.flatMap((s) => (s.kind === "deleteImage" ? [s.imageId] : []));
          const byId = new Map(images.map((i) => [i.id, i]));
          for (const id of deletes) {
            const image = byId.get(id)!;
            expect(isOwn(image)).toBe(true);
            expect(guard.inUse[id] ?? 0).toBe(0);
            expect(guard.namedByName[image.name]).toBeUndefined();
            // An upload is deleted only once it is stuck: of an earlier firing, started more than graceHours ago.
            if (isImageInProgress(image.status)) {
              expect(image.properties[IMAGE_FIRING_KEY]! < plan.status.firing!).toBe(true);
              expect(Date.parse(image.created)).toBeLessThan(now - 6 * 3_600_000);
            }
            // Never the old before the new, per server: a selected server's snapshot goes only once its own
            // snapshot of the latest firing is active (a stuck upload is no snapshot to keep: it goes at once).
            const source = image.properties[IMAGE_SOURCE_SERVER_KEY];
            if (image.status === "active" && servers.some((srv) => srv.id === source && (srv.metadata as Record<string, string>)["backup"] === "nightly")) {
              const fresh = images.some((i) => isOwn(i) && i.status === "active" && i.properties[IMAGE_SOURCE_SERVER_KEY] === source && i.properties[IMAGE_FIRING_KEY] === plan.status.firing);
              expect(fresh).toBe(true);
            }
          }
          // A server's newest active snapshot stays.
          for (const source of SERVERS) {
            const active = images.filter((i) => isOwn(i) && i.status === "active" && i.properties[IMAGE_SOURCE_SERVER_KEY] === source);
            const newest = active.sort((x, y) => (x.properties[IMAGE_FIRING_KEY]! < y.properties[IMAGE_FIRING_KEY]! ? 1 : -1))[0];
            if (newest !== undefined) expect(deletes).not.toContain(newest.id);
          }
          const snaps = plan.steps.flatMap((s) => (s.kind === "snapshot" ? [s] : []));
          expect(snaps.length + plan.status.inFlight).toBeLessThanOrEqual(Math.max(maxConcurrent, plan.status.inFlight));
          // In flight = uploads in progress that are not stuck; stuck ones are all reported.
          const uploading = images.filter((i) => isOwn(i) && isImageInProgress(i.status));
          expect(plan.status.inFlight + plan.status.stuck.length).toBe(uploading.length);

          // Apply: Glance makes an image per snapshot, deleteImage removes it.
          images = images.filter((i) => !deletes.includes(i.id));
          for (const s of snaps) {
            images.push({ id: `own-${next}`, name: `${s.imageName}-${next++}`, status: "saving", created: new Date(now).toISOString(), properties: policySnapshotProperties("pets", s.serverId, s.firing) });
          }
          // Never two live snapshots (in progress or active) of one server for one firing.
          const live = images.filter((i) => isOwn(i) && (i.status === "active" || isImageInProgress(i.status)));
          const pairs = live.map((i) => `${i.properties[IMAGE_SOURCE_SERVER_KEY]}@${i.properties[IMAGE_FIRING_KEY]}`);
          expect(new Set(pairs).size).toBe(pairs.length);
        }
        for (const f of FOREIGN) expect(images.map((i) => i.id)).toContain(f.id);
      }),
      { numRuns: 150 },
    );
  });
});
