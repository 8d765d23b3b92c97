// The rolling refresh's rules, one per test: surge first, minInService, windows, halt and roll-back; a property over generated histories.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RefreshRules } from "../../../src/core/model/rules.ts";
import { inRefreshWindow, isDrifted, newRefreshState, nextRefreshWindow, shouldStartRefresh, type RefreshMember, type RefreshState } from "../../../src/core/scaling/refresh.ts";
import { planRefresh } from "../../../src/core/scaling/refresh-plan.ts";

const NOW = Date.parse("2026-12-08T03:00:00Z"); // a Tuesday, 03:00 UTC
const rules = (over: Partial<RefreshRules> = {}): RefreshRules => ({ maxSurge: 1, windows: [], timezone: "UTC", failureThreshold: 2, ...over });
const member = (id: string, imageId: string, over: Partial<RefreshMember> = {}): RefreshMember => ({
  id,
  name: `web-${id}`,
  status: "ACTIVE",
  created: `2026-12-01T00:00:0${id.length % 10}Z`,
  imageId,
  parked: false,
  gone: false,
  ...over,
});
const started = (over: Partial<RefreshState> = {}): RefreshState => ({ ...newRefreshState({ imageId: "new", flavor: "m1.small" }, NOW - 60_000, "drift"), ...over });
const olds = (n: number): RefreshMember[] => Array.from({ length: n }, (_, i) => member(`o${i}`, "old"));
const plan = (members: RefreshMember[], state = started(), r = rules(), desired = 3) => planRefresh({ group: "web", rules: r, desired, members, state, now: NOW });
const kinds = (p: ReturnType<typeof plan>) => p.steps.map((s) => (s.kind === "boot" ? `boot ${s.count}` : s.kind === "delete" ? `delete ${s.serverId}` : s.kind));

describe("drift and start", () => {
  it("a member on another image id has drifted; one on the target has not", () => {
    expect(isDrifted({ imageId: "old" }, { imageId: "new" })).toBe(true);
    expect(isDrifted({ imageId: "new" }, { imageId: "new" })).toBe(false);
  });
  it("a member on the target image whose flavor is to be replaced (flavors.ts flavorDriftNow) has drifted", () => {
    expect(isDrifted({ imageId: "new", flavorDrift: true }, { imageId: "new" })).toBe(true);
    expect(isDrifted({ imageId: "new", flavorDrift: false }, { imageId: "new" })).toBe(false);
  });
  it("no refresh rules: drift never starts a refresh (today's behaviour)", () => {
    expect(shouldStartRefresh(undefined, undefined, olds(3), { imageId: "new" })).toBe(false);
  });
  it("drift with rules starts one; an open refresh toward the same target does not start again", () => {
    expect(shouldStartRefresh(rules(), undefined, olds(3), { imageId: "new", flavor: "m1.small" })).toBe(true);
    expect(shouldStartRefresh(rules(), started(), olds(3), { imageId: "new", flavor: "m1.small" })).toBe(false);
  });
  it("a halted refresh is not restarted by the same target, but a newer image id starts a new one", () => {
    const halted = started({ halted: { reason: "x", at: "2026-12-08T02:00:00Z" } });
    expect(shouldStartRefresh(rules(), halted, olds(3), { imageId: "new", flavor: "m1.small" })).toBe(false);
    expect(shouldStartRefresh(rules(), halted, olds(3), { imageId: "newer", flavor: "m1.small" })).toBe(true);
  });
  it("a new preferred flavor in the rules is a new target: it starts a refresh even after a halt toward the old one", () => {
    const halted = started({ halted: { reason: "x", at: "2026-12-08T02:00:00Z" } });
    const onNew = [member("a", "new", { flavorDrift: true })];
    expect(shouldStartRefresh(rules(), halted, onNew, { imageId: "new", flavor: "m1.medium" })).toBe(true);
  });
});

describe("planRefresh", () => {
  it("starts by booting maxSurge new servers and deletes nothing", () => {
    expect(kinds(plan(olds(3)))).toEqual(["boot 1"]);
    expect(kinds(plan(olds(3), started(), rules({ maxSurge: 2 })))).toEqual(["boot 2"]);
  });
  it("a new server still building: no old one is deleted, no more surge", () => {
    expect(kinds(plan([...olds(3), member("n1", "new", { status: "BUILD" })]))).toEqual([]);
  });
  it("a new server ACTIVE: the oldest old member is deleted and the next one surges", () => {
    const p = plan([...olds(3), member("n1", "new")]);
    expect(kinds(p)).toEqual(["delete o0", "boot 1"]);
    expect(p.state.replaced).toBe(1);
  });
  it("never below minInService: with minInService 4 of 3 old + 1 new ready, nothing is deleted", () => {
    expect(kinds(plan([...olds(3), member("n1", "new")], started(), rules({ minInService: 4 })))).toEqual([]);
  });
  it("a group of one surges: boot first, delete the old one only when the new one is ACTIVE", () => {
    expect(kinds(plan(olds(1), started(), rules(), 1))).toEqual(["boot 1"]);
    expect(kinds(plan([...olds(1), member("n1", "new")], started(), rules(), 1))).toEqual(["delete o0"]);
  });
  it("with a health check, an ACTIVE new server that has not passed is not ready", () => {
    const r = rules({ healthCheck: { url: "http://{ip}/", graceSeconds: 300, timeoutMs: 1000 } });
    expect(kinds(plan([...olds(3), member("n1", "new")], started(), r))).toEqual([]);
    expect(kinds(plan([...olds(3), member("n1", "new", { health: "pass" })], started(), r))).toEqual(["delete o0", "boot 1"]);
  });
  it("an unhealthy new server past its grace fails and is deleted", () => {
    const r = rules({ healthCheck: { url: "http://{ip}/", graceSeconds: 60, timeoutMs: 1000 } });
    const state = started({ activeSince: { n1: new Date(NOW - 120_000).toISOString() } });
    const p = plan([...olds(3), member("n1", "new", { health: "fail" })], state, r);
    expect(kinds(p)).toContain("delete n1");
    expect(p.state.failedIds).toEqual(["n1"]);
  });
  it("outside every window: nothing is booted or deleted, and a notice says why", () => {
    const r = rules({ windows: ["Sat-Sun 02:00-05:00"] });
    const p = plan(olds(3), started(), r);
    expect(p.steps).toEqual([]);
    expect(p.notices.map((n) => n.code)).toContain("refresh-outside-window");
  });
  it("outside every window, progress says when the earliest one opens, in the rules' zone", () => {
    const r = rules({ windows: ["Sat-Sun 02:00-05:00", "Wed 01:00-02:00"], timezone: "Europe/Berlin" });
    // Tuesday 03:00 UTC: Wednesday 01:00 in Berlin (UTC+1) is Tuesday 24:00 UTC, before Saturday.
    expect(plan(olds(3), started(), r).progress.nextWindowAt).toBe("2026-12-09T00:00:00.000Z");
    expect(nextRefreshWindow(rules({ windows: [] }), NOW)).toBeUndefined();
  });
  it("inside a window progress names no next window", () => {
    expect(plan(olds(3), started(), rules({ windows: ["Tue 02:00-04:00"] })).progress.nextWindowAt).toBeUndefined();
  });
  it("inside a window in the rules' zone it proceeds; a manual start may ignore the window", () => {
    expect(inRefreshWindow(rules({ windows: ["Tue 04:00-05:00"], timezone: "Europe/Berlin" }), NOW, false)).toBe(true);
    expect(inRefreshWindow(rules({ windows: ["Tue 04:00-05:00"], timezone: "UTC" }), NOW, false)).toBe(false);
    expect(kinds(plan(olds(3), started({ ignoreWindow: true }), rules({ windows: ["Sat 02:00-05:00"] })))).toEqual(["boot 1"]);
  });
  it("failureThreshold failed new servers halt it, with a reason; the failed one is deleted, the old stay", () => {
    const p = plan([...olds(3), member("n2", "new", { status: "ERROR" })], started({ failedIds: ["n1"] }));
    expect(kinds(p)).toEqual(["delete n2"]);
    expect(p.state.halted?.reason).toMatch(/2 new server\(s\) failed \(threshold 2\)/);
    expect(p.notices.map((n) => n.code)).toContain("refresh-halted");
  });
  it("one failure below the threshold: the failed server is deleted, counted once, and the surge goes on", () => {
    const members = [...olds(3), member("n1", "new", { status: "ERROR" })];
    const p = plan(members);
    expect(kinds(p)).toEqual(["delete n1", "boot 1"]);
    expect(plan(members, p.state).state.failedIds).toEqual(["n1"]);
  });
  it("halted: a new server still building is rolled back; old members are never deleted", () => {
    const p = plan([...olds(3), member("n3", "new", { status: "BUILD" })], started({ halted: { reason: "r", at: "x" } }));
    expect(kinds(p)).toEqual(["delete n3"]);
  });
  it("parked old members are left while parked, and keep the refresh open", () => {
    const p = plan([member("n1", "new"), member("n2", "new"), member("n3", "new"), member("o9", "old", { parked: true, status: "SHELVED_OFFLOADED" })], started({ replaced: 3 }));
    expect(p.steps).toEqual([]);
    expect(p.state.completedAt).toBeUndefined();
    expect(p.notices.map((n) => n.code)).toContain("refresh-parked");
  });
  it("done when every member is on the target", () => {
    const p = plan([member("n1", "new"), member("n2", "new"), member("n3", "new")], started({ replaced: 3 }));
    expect(p.state.completedAt).toBeDefined();
    expect(p.steps).toEqual([]);
  });
});

describe("planRefresh explains itself (the dry run's data)", () => {
  const told = (p: ReturnType<typeof plan>) => p.explain.members.map((m) => `${m.action} ${m.serverId}${m.code === undefined ? "" : ` ${m.code}`}`);
  it("each delete is told as the member's plan with the step's reason", () => {
    const p = plan([...olds(3), member("n1", "new")]);
    expect(told(p)).toEqual(["replace o0", "wait o1 max-surge", "wait o2 max-surge"]);
    expect(p.explain.members[0]?.reason).toBe(p.steps.find((s) => s.kind === "delete")?.reason);
    expect(p.explain.boots).toBe(1);
  });
  it("old members that wait for the surge say maxSurge; one cause, one wait", () => {
    const p = plan([...olds(3), member("n1", "new", { status: "BUILD" })]);
    expect(p.explain.waits.map((w) => w.code)).toEqual(["max-surge"]);
    expect(p.explain.boots).toBe(0);
  });
  it("minInService cutting the deletes is the cause named, not maxSurge", () => {
    const p = plan([...olds(3), member("n1", "new")], started(), rules({ minInService: 4 }));
    expect(p.explain.waits.map((w) => w.code)).toEqual(["min-in-service"]);
    expect(new Set(told(p))).toEqual(new Set(["wait o0 min-in-service", "wait o1 min-in-service", "wait o2 min-in-service"]));
  });
  it("outside the windows every old member waits with outside-window", () => {
    const p = plan(olds(2), started(), rules({ windows: ["Sun 02:00-03:00"] }));
    expect(told(p)).toEqual(["wait o0 outside-window", "wait o1 outside-window"]);
    expect(p.explain.waits.map((w) => w.code)).toEqual(["outside-window"]);
  });
  it("a failed new server is delete-failed; once halted, a building one is roll-back and the old ones are kept", () => {
    expect(told(plan([...olds(1), member("n1", "new", { status: "ERROR" })]))).toContain("delete-failed n1");
    const halted = plan([...olds(2), member("n3", "new", { status: "BUILD" })], started({ halted: { reason: "r", at: "x" } }));
    expect(told(halted)).toEqual(["roll-back n3", "keep o0 halted", "keep o1 halted"]);
  });
  it("parked old members are a cause of their own", () => {
    const p = plan([...olds(1), member("o9", "old", { parked: true, status: "SHELVED_OFFLOADED" })]);
    expect(p.explain.waits.map((w) => w.code)).toContain("parked");
  });
});

/**
 * A small cloud: each tick the plan runs, deletes take effect, boots appear as BUILD; between ticks a
 * BUILD server turns ACTIVE or ERROR and a health probe passes or fails, as the generated history says.
 */
describe("property: over generated histories", () => {
  it("ACTIVE members never drop below minInService, and no old member is deleted before a replacement is ACTIVE", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.array(fc.record({ active: fc.boolean(), error: fc.boolean(), healthy: fc.boolean() }), { minLength: 1, maxLength: 40 }),
        (desired, maxSurge, withCheck, history) => {
          const r = rules({ maxSurge, failureThreshold: 3, ...(withCheck ? { healthCheck: { url: "http://{ip}/", graceSeconds: 0, timeoutMs: 1000 } } : {}) });
          let members: RefreshMember[] = olds(desired);
          let state = started();
          let next = 0;
          let t = NOW;
          for (const ev of history) {
            const p = planRefresh({ group: "web", rules: r, desired, members, state, now: t });
            const deleted = new Set(p.steps.flatMap((s) => (s.kind === "delete" ? [s.serverId] : [])));
            const oldDeleted = members.filter((m) => deleted.has(m.id) && m.imageId === "old").length;
            const readyNew = members.filter((m) => m.imageId === "new" && m.status === "ACTIVE" && (!withCheck || m.health === "pass")).length;
            // Every old deletion so far is paired with a ready new server.
            expect(p.state.replaced).toBeLessThanOrEqual(readyNew);
            members = members.filter((m) => !deleted.has(m.id));
            const active = members.filter((m) => m.status === "ACTIVE" && (m.imageId === "old" || !withCheck || m.health === "pass")).length;
            if (oldDeleted > 0) expect(active).toBeGreaterThanOrEqual(desired);
            expect(members.filter((m) => m.status === "ACTIVE").length).toBeGreaterThanOrEqual(Math.min(desired, members.filter((m) => m.imageId === "old").length + readyNew));
            for (const s of p.steps) if (s.kind === "boot") for (let i = 0; i < s.count; i += 1) members.push(member(`n${next++}`, "new", { status: "BUILD" }));
            state = p.state;
            if (state.halted !== undefined || state.completedAt !== undefined) break;
            members = members.map((m) =>
              m.status === "BUILD" && ev.active ? { ...m, status: ev.error ? "ERROR" : "ACTIVE", ...(withCheck ? { health: ev.healthy ? "pass" : "fail" } : {}) } : m,
            );
            t += 60_000;
          }
          // Old members only ever go after being replaced: the ones left plus those replaced are all of them.
          expect(members.filter((m) => m.imageId === "old").length + state.replaced).toBe(desired);
        },
      ),
      { numRuns: 300 },
    );
  });
});
