// Property tests (fast-check) of the core's invariants: bounds, never touching strangers or protected servers, convergence.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GroupRulesSchema, type Group, type GroupRules, type Override } from "../../../src/config/group.ts";
import { desiredCount } from "../../../src/core/schedule/desired.ts";
import { BOOT_INTENT_KEY, GROUP_KEY, PROTECTED_KEY, isMember, isProtected } from "../../../src/core/model/membership.ts";
import { plan } from "../../../src/core/scaling/plan.ts";
import { limitSteps } from "../../../src/core/scaling/limits.ts";
import { timeline } from "../../../src/core/schedule/timeline.ts";
import type { Desired, ObservedServer } from "../../../src/core/model/types.ts";
import { LOST_BOOT_SETTLE_MS } from "../../../src/core/scaling/lost-boots.ts";
import { faultyTick, slowCloudReconcile, tick, type SlowCloud } from "./sim.ts";

const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"];
const PATTERNS = ["0 8 * * 1-5", "0 20 * * *", "30 2 * * *", "*/15 * * * *", "0 */6 * * *", "0 0 1 * *", "30 1 * * 0"];
const YEAR_2026 = { min: new Date("2026-01-01T00:00:00Z"), max: new Date("2026-12-31T23:59:59Z"), noInvalidDate: true };

const instant = fc.date(YEAR_2026);
const cronEntry = fc.record({ cron: fc.constantFrom(...PATTERNS), timezone: fc.constantFrom(...ZONES), desired: fc.nat(30) });
const oneShot = fc.record({ at: instant.map((d) => d.toISOString()), desired: fc.nat(30) });

const rulesArb: fc.Arbitrary<GroupRules> = fc
  .record({
    min: fc.nat(8),
    span: fc.nat(15),
    defaultAt: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    schedules: fc.array(fc.oneof(cronEntry, oneShot), { maxLength: 4 }),
    paused: fc.boolean(),
    maxBootsPerTick: fc.integer({ min: 1, max: 6 }),
    maxDeletesPerTick: fc.integer({ min: 1, max: 6 }),
  })
  .map(({ min, span, defaultAt, schedules, paused, maxBootsPerTick, maxDeletesPerTick }) =>
    GroupRulesSchema.parse({
      image: "img",
      flavor: "flv",
      min,
      max: min + span,
      default: defaultAt === undefined ? undefined : min + Math.round(defaultAt * span),
      schedules,
      paused,
      limits: { maxBootsPerTick, maxDeletesPerTick },
    }),
  );

const overrideArb: fc.Arbitrary<Override | undefined> = fc.option(
  fc.record({ desired: fc.nat(40), until: instant.map((d) => d.toISOString()) }).map(({ desired, until }) => ({
    desired,
    until,
    reason: "property",
    author: "fc",
    createdAt: "2026-01-01T00:00:00Z",
  })),
  { nil: undefined },
);

const STATUSES = ["ACTIVE", "ACTIVE", "BUILD", "ERROR", "SHUTOFF", "REBOOT", "DELETED", "HIBERNATING"];
let serverSerial = 0;
const serverArb = (now: Date): fc.Arbitrary<ObservedServer> =>
  fc
    .record({
      status: fc.constantFrom(...STATUSES),
      deleting: fc.boolean(),
      ageMin: fc.nat(600),
      tag: fc.constantFrom<"web" | "db" | null>("web", "web", "web", "db", null),
      protect: fc.boolean(),
    })
    .map(({ status, deleting, ageMin, tag, protect }) => {
      serverSerial += 1;
      const metadata: Record<string, string> = {};
      if (tag !== null) metadata[GROUP_KEY] = tag;
      if (protect) metadata[PROTECTED_KEY] = "yes";
      return {
        id: `p-${serverSerial}`,
        name: `p-${serverSerial}`,
        status,
        taskState: deleting ? "deleting" : null,
        created: new Date(now.getTime() - ageMin * 60_000).toISOString(),
        metadata,
      };
    });

const NOW = new Date("2026-06-15T12:00:00Z");
const PLAN_NOW = NOW;

describe("properties of desiredCount", () => {
  it("is never above max nor below min, paused or not", () => {
    fc.assert(
      fc.property(rulesArb, overrideArb, instant, (rules, override, now) => {
        const d = desiredCount(rules, override, now);
        expect(d.value).toBeGreaterThanOrEqual(rules.min);
        expect(d.value).toBeLessThanOrEqual(rules.max);
      }),
      { numRuns: 150 },
    );
  });

  it("is paused exactly when the rules say paused", () => {
    fc.assert(
      fc.property(rulesArb, overrideArb, instant, (rules, override, now) => {
        expect(desiredCount(rules, override, now).source === "paused").toBe(rules.paused);
      }),
      { numRuns: 100 },
    );
  });

  it("depends only on now: the answer is the same whatever was asked before (missed ticks do no harm)", () => {
    fc.assert(
      fc.property(rulesArb, overrideArb, fc.array(instant, { minLength: 2, maxLength: 6 }), (rules, override, times) => {
        const fresh = times.map((t) => desiredCount(rules, override, t));
        const reversed = [...times].reverse().map((t) => desiredCount(rules, override, t)).reverse();
        expect(reversed).toEqual(fresh);
      }),
      { numRuns: 60 },
    );
  });

  it("agrees with the timeline at any instant inside the window", () => {
    fc.assert(
      fc.property(rulesArb, overrideArb, instant, fc.double({ min: 0, max: 1, noNaN: true }), (rules, override, from, fraction) => {
        const hours = 48;
        const points = timeline(rules, override, from, hours);
        const probe = new Date(from.getTime() + Math.floor(fraction * hours * 3_600_000));
        const holding = points.filter((p) => Date.parse(p.at) <= probe.getTime()).at(-1);
        const d = desiredCount(rules, override, probe);
        expect(holding?.value).toBe(d.value);
        expect(holding?.source).toBe(d.source);
      }),
      { numRuns: 40 },
    );
  });
});

describe("properties of plan + limitSteps", () => {
  const desiredArb: fc.Arbitrary<Desired> = fc.record({
    value: fc.nat(12),
    source: fc.constantFrom<Desired["source"]>("schedule", "override", "default", "min", "paused"),
    reason: fc.constant("property"),
  });
  const membersArb = fc.array(serverArb(PLAN_NOW), { maxLength: 25 });
  const group: Group = { name: "web", rules: GroupRulesSchema.parse({ image: "img", flavor: "flv", max: 50 }) };

  it("never deletes a server without the group's tag, nor a protected one, even if a caller passes them in", () => {
    fc.assert(
      fc.property(membersArb, desiredArb, fc.boolean(), (members, desired, listingComplete) => {
        const r = plan({ group, desired, members, now: PLAN_NOW, listingComplete });
        const byId = new Map(members.map((s) => [s.id, s]));
        for (const step of r.steps) {
          if (step.kind !== "delete") continue;
          const target = byId.get(step.serverId);
          expect(target).toBeDefined();
          expect(isMember(target!, "web")).toBe(true);
          expect(isProtected(target!)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("deletes nothing on an incomplete listing", () => {
    fc.assert(
      fc.property(membersArb, desiredArb, (members, desired) => {
        const r = plan({ group, desired, members, now: PLAN_NOW, listingComplete: false });
        expect(r.steps.filter((s) => s.kind === "delete")).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it("plans nothing while paused", () => {
    fc.assert(
      fc.property(membersArb, fc.nat(12), (members, value) => {
        expect(plan({ group, desired: { value, source: "paused", reason: "p" }, members, now: PLAN_NOW, listingComplete: true }).steps).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it("never boots past desired: counted + boots <= desired", () => {
    fc.assert(
      fc.property(membersArb, desiredArb, (members, desired) => {
        const r = plan({ group, desired, members, now: PLAN_NOW, listingComplete: true });
        const boots = r.steps.reduce((n, s) => n + (s.kind === "boot" ? s.count : 0), 0);
        if (boots > 0) expect(r.counted + boots).toBe(desired.value);
      }),
      { numRuns: 200 },
    );
  });

  it("stays within the per-tick caps after limitSteps", () => {
    fc.assert(
      fc.property(membersArb, desiredArb, fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), (members, desired, maxBoots, maxDeletes) => {
        const r = plan({ group, desired, members, now: PLAN_NOW, listingComplete: true });
        const limited = limitSteps(r.steps, { maxBootsPerTick: maxBoots, maxDeletesPerTick: maxDeletes, ceiling: { max: 50, present: r.present } });
        expect(limited.steps.reduce((n, s) => n + (s.kind === "boot" ? s.count : 0), 0)).toBeLessThanOrEqual(maxBoots);
        expect(limited.steps.filter((s) => s.kind === "delete").length).toBeLessThanOrEqual(maxDeletes);
      }),
      { numRuns: 200 },
    );
  });
});

describe("properties of repeated ticks on a fault-free cloud", () => {
  // Initial clouds: the group's servers in states that settle by themselves in a fault-free cloud,
  // a few protected ones (no more than desired, or the group could not converge), and strangers.
  const settleable = fc.constantFrom("ACTIVE", "BUILD", "ERROR", "SHUTOFF", "DELETED");
  const cloudArb = fc
    .record({
      desired: fc.nat(15),
      ours: fc.array(fc.record({ status: settleable, ageMin: fc.nat(120) }), { maxLength: 25 }),
      protectedCount: fc.nat(5),
      strangers: fc.nat(4),
      maxBootsPerTick: fc.integer({ min: 1, max: 5 }),
      maxDeletesPerTick: fc.integer({ min: 1, max: 5 }),
    })
    .map(({ desired, ours, protectedCount, strangers, maxBootsPerTick, maxDeletesPerTick }) => {
      const servers: ObservedServer[] = [];
      const mk = (id: string, status: string, ageMin: number, metadata: Record<string, string>): ObservedServer => ({
        id,
        name: id,
        status,
        created: new Date(NOW.getTime() - ageMin * 60_000).toISOString(),
        metadata,
      });
      ours.forEach((s, i) => servers.push(mk(`ours-${i}`, s.status, s.ageMin, { [GROUP_KEY]: "web", [BOOT_INTENT_KEY]: "seeded" })));
      for (let i = 0; i < Math.min(protectedCount, desired); i += 1) servers.push(mk(`prot-${i}`, "ACTIVE", 300, { [GROUP_KEY]: "web", [BOOT_INTENT_KEY]: "seeded", [PROTECTED_KEY]: "true" }));
      for (let i = 0; i < strangers; i += 1) servers.push(mk(`stranger-${i}`, "ERROR", 300, { role: "web" }));
      const group: Group = {
        name: "web",
        rules: GroupRulesSchema.parse({ image: "img", flavor: "flv", max: 30, default: desired, limits: { maxBootsPerTick, maxDeletesPerTick } }),
      };
      return { group, servers, desired };
    });

  /** Enough ticks: every delete and boot at the per-tick rate, plus one for BUILD to turn ACTIVE and one spare. */
  const ticksNeeded = (servers: number, desired: number, group: Group) =>
    Math.ceil(servers / group.rules.limits.maxDeletesPerTick) + Math.ceil((desired + servers) / group.rules.limits.maxBootsPerTick) + 2;

  it("converges to desired ACTIVE servers within k ticks, and never touches strangers", () => {
    fc.assert(
      fc.property(cloudArb, ({ group, servers, desired }) => {
        let cloud = servers;
        const k = ticksNeeded(servers.length, desired, group);
        for (let i = 0; i < k; i += 1) cloud = tick(cloud, group, new Date(NOW.getTime() + i * 60_000)).servers;
        const live = cloud.filter((s) => isMember(s, "web") && s.status !== "DELETED");
        expect(live.length).toBe(desired);
        expect(live.every((s) => s.status === "ACTIVE")).toBe(true);
        expect(cloud.filter((s) => s.id.startsWith("stranger-")).length).toBe(servers.filter((s) => s.id.startsWith("stranger-")).length);
        expect(cloud.filter((s) => s.id.startsWith("prot-")).length).toBe(servers.filter((s) => s.id.startsWith("prot-")).length);
      }),
      { numRuns: 150 },
    );
  });

  it("a tick on a converged group plans nothing", () => {
    fc.assert(
      fc.property(cloudArb, ({ group, servers, desired }) => {
        let cloud = servers;
        const k = ticksNeeded(servers.length, desired, group);
        for (let i = 0; i < k; i += 1) cloud = tick(cloud, group, new Date(NOW.getTime() + i * 60_000)).servers;
        const again = tick(cloud, group, new Date(NOW.getTime() + k * 60_000));
        expect(again.steps).toEqual([]);
        expect(again.servers).toEqual(cloud);
      }),
      { numRuns: 100 },
    );
  });
});

describe("properties of faulty histories: never over max while replacing", () => {
  // A group at or under its max; every tick some servers may break, some deletes may be refused, builds may lag.
  const historyArb = fc
    .record({
      max: fc.integer({ min: 1, max: 6 }),
      statuses: fc.array(fc.constantFrom("ACTIVE", "BUILD", "ERROR", "SHUTOFF"), { maxLength: 6 }),
      maxBootsPerTick: fc.integer({ min: 1, max: 6 }),
      maxDeletesPerTick: fc.integer({ min: 1, max: 6 }),
      ticks: fc.array(
        fc.record({
          desired: fc.nat(6),
          breaks: fc.array(fc.nat(8), { maxLength: 3 }),
          failedDeletes: fc.array(fc.nat(5), { maxLength: 3 }),
          buildsFinish: fc.boolean(),
        }),
        { minLength: 1, maxLength: 8 },
      ),
    })
    .map((h) => ({ ...h, statuses: h.statuses.slice(0, h.max) }));

  /** Members in service or on their way: everything of the group's that is not already going away. */
  const present = (cloud: readonly ObservedServer[]) => cloud.filter((s) => isMember(s, "web") && s.status !== "DELETED").length;

  it("never more than max servers exist after any tick, counting broken ones whose delete was not sent or was refused", () => {
    fc.assert(
      fc.property(historyArb, ({ max, statuses, maxBootsPerTick, maxDeletesPerTick, ticks }) => {
        const group: Group = { name: "web", rules: GroupRulesSchema.parse({ image: "img", flavor: "flv", max, limits: { maxBootsPerTick, maxDeletesPerTick } }) };
        let cloud: ObservedServer[] = statuses.map((status, i) => ({
          id: `h-${i}`,
          name: `h-${i}`,
          status,
          created: new Date(NOW.getTime() - 600_000).toISOString(),
          metadata: { [GROUP_KEY]: "web", [BOOT_INTENT_KEY]: "seeded" },
        }));
        ticks.forEach((t, i) => {
          const desired: Desired = { value: Math.min(t.desired, max), source: "schedule", reason: "history" };
          cloud = faultyTick(cloud, group, desired, new Date(NOW.getTime() + i * 60_000), t).servers;
          expect(present(cloud)).toBeLessThanOrEqual(max);
        });
      }),
      { numRuns: 300 },
    );
  });
});

describe("properties of a slow cloud that loses boot answers: no double boot", () => {
  // Reconciles (cron ticks, "apply now") at any spacing; any boot's answer may be lost, and its servers
  // then registered up to (not including) LOST_BOOT_SETTLE_MS later.
  const historyArb = fc.record({
    desired: fc.integer({ min: 1, max: 6 }),
    reconciles: fc.array(
      fc.record({ afterMs: fc.integer({ min: 0, max: 90_000 }), lost: fc.boolean(), registerAfterMs: fc.integer({ min: 0, max: LOST_BOOT_SETTLE_MS - 1 }) }),
      { minLength: 1, maxLength: 12 },
    ),
  });

  it("the servers that exist never outnumber desired, whatever answers were lost and however late servers register", () => {
    fc.assert(
      fc.property(historyArb, ({ desired, reconciles }) => {
        const group: Group = { name: "web", rules: GroupRulesSchema.parse({ image: "img", flavor: "flv", max: 10 }) };
        const want: Desired = { value: desired, source: "schedule", reason: "history" };
        let cloud: SlowCloud = { servers: [], lost: [] };
        let now = NOW.getTime();
        for (const r of reconciles) {
          now += r.afterMs;
          cloud = slowCloudReconcile(cloud, group, want, new Date(now), r);
          expect(cloud.servers.length).toBeLessThanOrEqual(desired);
        }
      }),
      { numRuns: 300 },
    );
  });
});
