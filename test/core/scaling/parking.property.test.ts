// Property tests of parking: a power group's plan never boots or deletes; parking never touches protected servers; pools stay capped.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GroupRulesSchema, poolMax, type Group } from "../../../src/config/group.ts";
import { limitSteps } from "../../../src/core/scaling/limits.ts";
import { BOOT_INTENT_KEY, GROUP_KEY, PARK_KEY, PROTECTED_KEY, TIER_KEY } from "../../../src/core/model/membership.ts";
import { formatParkMark } from "../../../src/core/scaling/parking.ts";
import { plan } from "../../../src/core/scaling/plan.ts";
import type { Desired, ObservedServer } from "../../../src/core/model/types.ts";

const NOW = new Date("2026-11-26T12:00:00Z");
const STATUSES = ["ACTIVE", "ACTIVE", "BUILD", "ERROR", "SHUTOFF", "SHELVED", "SHELVED_OFFLOADED", "REBOOT", "DELETED", "HIBERNATING", "UNKNOWN"];
const TASKS = [null, null, null, "powering-off", "powering-on", "shelving", "unshelving", "deleting", "spawning"];

let serial = 0;
const serverArb = (group: string): fc.Arbitrary<ObservedServer> =>
  fc
    .record({
      status: fc.constantFrom(...STATUSES),
      task: fc.constantFrom(...TASKS),
      ageMin: fc.integer({ min: 0, max: 3000 }),
      mark: fc.constantFrom("none", "parked", "parked", "garbage"),
      markAgoMin: fc.integer({ min: -30, max: 3000 }),
      tier: fc.option(fc.integer({ min: -2, max: 5 }), { nil: undefined }),
      protectedFlag: fc.boolean(),
      member: fc.integer({ min: 0, max: 9 }),
      // One server in four was tagged by hand (no boot mark): never deleted.
      booted: fc.integer({ min: 0, max: 3 }),
    })
    .map((s) => {
      serial += 1;
      const metadata: Record<string, string> = {};
      // One server in ten carries another group's tag: never ours to touch.
      metadata[GROUP_KEY] = s.member === 0 ? "other" : group;
      const markAt = new Date(NOW.getTime() - s.markAgoMin * 60_000);
      if (s.mark === "parked") metadata[PARK_KEY] = formatParkMark(markAt);
      if (s.mark === "garbage") metadata[PARK_KEY] = "parked yesterday";
      if (s.tier !== undefined) metadata[TIER_KEY] = String(s.tier);
      if (s.protectedFlag) metadata[PROTECTED_KEY] = "true";
      if (s.booted > 0) metadata[BOOT_INTENT_KEY] = `b-${serial}`;
      return { id: `s-${serial}`, name: `n-${serial}`, status: s.status, taskState: s.task, created: new Date(NOW.getTime() - s.ageMin * 60_000).toISOString(), metadata };
    });

/** Resume records for some of the servers (by id), at various times. */
const resumingArb = (members: ObservedServer[]) =>
  fc.array(fc.record({ pick: fc.nat(40), agoMin: fc.integer({ min: 0, max: 300 }) }), { maxLength: 6 }).map((picks) =>
    Object.fromEntries(picks.filter((p) => members.length > 0).map((p) => [members[p.pick % members.length]!.id, new Date(NOW.getTime() - p.agoMin * 60_000).toISOString()])),
  );

const desiredArb: fc.Arbitrary<Desired> = fc.record({
  value: fc.nat(12),
  source: fc.constantFrom<Desired["source"]>("schedule", "override", "default", "paused"),
  sinceAgoMin: fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }),
}).map(({ value, source, sinceAgoMin }) => ({
  value,
  source,
  reason: "property",
  ...(sinceAgoMin === undefined ? {} : { since: new Date(NOW.getTime() - sinceAgoMin * 60_000).toISOString() }),
}));

const powerGroupArb: fc.Arbitrary<Group> = fc
  .record({ action: fc.constantFrom("stop", "shelve", undefined), manual: fc.constantFrom("enforce", "respect"), max: fc.integer({ min: 0, max: 12 }) })
  .map(({ action, manual, max }) => ({
    name: "dev",
    rules: GroupRulesSchema.parse({ mode: "power", max, manualChanges: manual, ...(action ? { scaleIn: { action } } : {}) }),
  }));

const elasticGroupArb: fc.Arbitrary<Group> = fc
  .record({ action: fc.constantFrom("stop", "shelve", "delete"), manual: fc.constantFrom("enforce", "respect"), pool: fc.option(fc.nat(6), { nil: undefined }) })
  .map(({ action, manual, pool }) => ({
    name: "web",
    rules: GroupRulesSchema.parse({ image: "i", flavor: "f", max: 12, scaleIn: { action }, manualChanges: manual, ...(pool === undefined ? {} : { pool: { max: pool } }) }),
  }));

describe("parking properties", () => {
  it("a power group's plan never contains boot or delete, whatever its servers' states, marks and tiers", () => {
    fc.assert(
      fc.property(powerGroupArb, fc.array(serverArb("dev"), { maxLength: 25 }).chain((m) => fc.tuple(fc.constant(m), resumingArb(m))), desiredArb, fc.boolean(), (group, [members, resuming], desired, complete) => {
        const r = plan({ group, desired, members, now: NOW, listingComplete: complete, resuming });
        const capped = limitSteps(r.steps, { maxBootsPerTick: 10, maxDeletesPerTick: 10, ceiling: { max: 100, present: 0 } });
        for (const step of [...r.steps, ...capped.steps]) expect(["park", "resume", "unmark"]).toContain(step.kind);
      }),
      { numRuns: 400 },
    );
  });

  it("no plan parks, resumes or deletes a protected server or another group's server", () => {
    fc.assert(
      fc.property(fc.oneof(powerGroupArb, elasticGroupArb), fc.array(serverArb("web"), { maxLength: 25 }), desiredArb, (group, raw, desired) => {
        const members = raw.map((s) => (s.metadata[GROUP_KEY] === "web" ? { ...s, metadata: { ...s.metadata, [GROUP_KEY]: group.name } } : s));
        const byId = new Map(members.map((s) => [s.id, s]));
        const r = plan({ group, desired, members, now: NOW, listingComplete: true });
        for (const step of r.steps) {
          if (!("serverId" in step)) continue;
          const s = byId.get(step.serverId);
          expect(s?.metadata[GROUP_KEY]).toBe(group.name);
          if (step.kind === "park" || step.kind === "delete") expect(s?.metadata[PROTECTED_KEY]).toBeUndefined();
        }
      }),
      { numRuns: 300 },
    );
  });

  it("no plan deletes a server novascale did not boot (no boot mark, not adopted), in any mode", () => {
    fc.assert(
      fc.property(fc.oneof(powerGroupArb, elasticGroupArb), fc.array(serverArb("web"), { maxLength: 25 }).chain((m) => fc.tuple(fc.constant(m), resumingArb(m))), desiredArb, fc.boolean(), (group, [raw, resuming], desired, complete) => {
        const members = raw.map((s) => (s.metadata[GROUP_KEY] === "web" ? { ...s, metadata: { ...s.metadata, [GROUP_KEY]: group.name } } : s));
        const byId = new Map(members.map((s) => [s.id, s]));
        const r = plan({ group, desired, members, now: NOW, listingComplete: complete, resuming });
        for (const step of r.steps) if (step.kind === "delete") expect(byId.get(step.serverId)?.metadata[BOOT_INTENT_KEY]).toBeDefined();
      }),
      { numRuns: 400 },
    );
  });

  it("an elastic group never parks more servers it booted than its pool has room for", () => {
    fc.assert(
      fc.property(elasticGroupArb, fc.array(serverArb("web"), { maxLength: 25 }), desiredArb, (group, members, desired) => {
        const r = plan({ group, desired, members, now: NOW, listingComplete: true });
        const byId = new Map(members.map((s) => [s.id, s]));
        // Servers novascale did not boot are parked beyond the pool rather than deleted: the pool bounds only its own.
        const parks = r.steps.filter((s) => s.kind === "park" && byId.get(s.serverId)?.metadata[BOOT_INTENT_KEY] !== undefined).length;
        const resumes = r.steps.filter((s) => s.kind === "resume").length;
        const poolDeletes = r.steps.filter((s) => s.kind === "delete" && s.reason.startsWith("pool over")).length;
        const after = r.parked + parks - resumes - poolDeletes;
        // Parking only adds while there is room; when the pool was already over (e.g. protected parked members), it only shrinks.
        if (parks > 0) expect(after).toBeLessThanOrEqual(Math.max(poolMax(group.rules), r.parked));
        expect(parks === 0 || resumes === 0).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
