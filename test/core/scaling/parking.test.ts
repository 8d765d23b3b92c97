// Parking in the core: the destiny rows for parked states, park/resume/pool planning, tiers, manualChanges, quota, the ledger.
import { describe, expect, it } from "vitest";
import { GroupRulesSchema, poolMax, scaleInAction } from "../../../src/config/group.ts";
import { destinyOf } from "../../../src/core/scaling/destiny.ts";
import { limitSteps } from "../../../src/core/scaling/limits.ts";
import { checkMetadataFits } from "../../../src/core/model/metadata.ts";
import { PARK_KEY, TIER_KEY } from "../../../src/core/model/membership.ts";
import { formatParkMark, parkMarkOf, parkedServerHours, parkingStatus, updateLedger, updateResumes } from "../../../src/core/scaling/parking.ts";
import { plan, type PlanInput } from "../../../src/core/scaling/plan.ts";
import { desiredCount } from "../../../src/core/schedule/desired.ts";
import type { Step } from "../../../src/core/model/types.ts";
import { NOW, desired, group, rules, server, servers, type ServerSpec } from "../builders.ts";

const HOUR = 3_600_000;
const ago = (hours: number) => new Date(NOW.getTime() - hours * HOUR);
const parkedAt = (hours: number) => ({ [PARK_KEY]: formatParkMark(ago(hours)) });
const parkedServer = (spec: ServerSpec = {}, hours = 10) => server({ status: "SHUTOFF", ...spec, metadata: { ...parkedAt(hours), ...spec.metadata } });
const shelve = { scaleIn: { action: "shelve" as const } };
const stop = { scaleIn: { action: "stop" as const } };
const power = (input: object = {}) => group({ mode: "power", image: undefined, flavor: undefined, max: 20, ...input });

function planFor(input: Partial<PlanInput> & Pick<PlanInput, "members">) {
  return plan({ group: group(shelve), desired: desired(3), now: NOW, listingComplete: true, ...input });
}
const kinds = (steps: Step[]) => steps.map((s) => s.kind);
const ids = (steps: Step[], kind: Step["kind"]) => steps.flatMap((s) => (s.kind === kind && "serverId" in s ? [s.serverId] : []));

describe("rules: modes and actions", () => {
  it("defaults scale-in to delete for elastic groups and to stop for power groups", () => {
    expect(scaleInAction(rules())).toBe("delete");
    expect(scaleInAction(power().rules)).toBe("stop");
  });

  it("defaults pool.max to max - min", () => {
    expect(poolMax(rules({ ...shelve, min: 2, max: 10 }))).toBe(8);
    expect(poolMax(rules({ ...shelve, min: 2, max: 10, pool: { max: 3 } }))).toBe(3);
  });

  it("requires image and flavor for an elastic group", () => {
    const r = GroupRulesSchema.safeParse({ max: 3 });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join("."))).toEqual(expect.arrayContaining(["image", "flavor"]));
  });

  it("refuses image, flavor and boot fields on a power group, naming each", () => {
    const r = GroupRulesSchema.safeParse({ mode: "power", max: 3, image: "cirros", keyName: "k", metadata: { a: "b" } });
    expect(r.error?.issues.map((i) => i.path.join("."))).toEqual(expect.arrayContaining(["image", "keyName", "metadata"]));
  });

  it("refuses scaleIn.action delete on a power group", () => {
    const r = GroupRulesSchema.safeParse({ mode: "power", max: 3, scaleIn: { action: "delete" } });
    expect(r.error?.issues.map((i) => i.path.join("."))).toEqual(["scaleIn.action"]);
  });

  it("counts the park mark as a third key of novascale's against a 5-key cloud", () => {
    expect(checkMetadataFits(rules({ metadata: { a: "1", b: "2", c: "3" } }), 5)).toBeUndefined();
    expect(checkMetadataFits(rules({ ...shelve, metadata: { a: "1", b: "2", c: "3" } }), 5)).toContain("3 of novascale");
  });
});

describe("destiny: parking rows", () => {
  const d = (spec: ServerSpec, r = rules(shelve), resumedHoursAgo?: number) =>
    destinyOf(server(spec), r, NOW, 0, resumedHoursAgo === undefined ? undefined : ago(resumedHoursAgo)).destiny;

  it("a SHUTOFF, SHELVED or SHELVED_OFFLOADED server novascale parked is parked (not counted)", () => {
    for (const status of ["SHUTOFF", "SHELVED", "SHELVED_OFFLOADED"]) expect(d({ status, metadata: parkedAt(1) })).toBe("parked");
  });

  it("SHUTOFF by someone else stays under replaceShutoff in an elastic group", () => {
    expect(d({ status: "SHUTOFF" })).toBe("replace");
  });

  it("a parked server on its way (powering-off, shelving_offloading) is parking", () => {
    expect(d({ status: "ACTIVE", taskState: "powering-off", metadata: parkedAt(0) })).toBe("parking");
    expect(d({ status: "SHELVED", taskState: "shelving_offloading", metadata: parkedAt(0) })).toBe("parking");
  });

  it("a parked server that is ACTIVE again was woken by someone else", () => {
    expect(d({ status: "ACTIVE", metadata: parkedAt(1) })).toBe("woken");
  });

  it("a resumed server coming back (unshelving, powering-on, still SHELVED_OFFLOADED) is resuming and counts", () => {
    expect(d({ status: "SHELVED_OFFLOADED", taskState: "unshelving", metadata: parkedAt(10) }, rules(shelve), 0.1)).toBe("resuming");
    expect(d({ status: "SHUTOFF", taskState: "powering-on", metadata: parkedAt(10) }, rules(shelve), 0.1)).toBe("resuming");
    expect(d({ status: "SHELVED_OFFLOADED", metadata: parkedAt(10) }, rules(shelve), 0.01)).toBe("resuming");
  });

  it("a resumed server still coming back after the build timeout is reported (resume-failed), never replaced", () => {
    expect(d({ status: "SHELVED_OFFLOADED", taskState: "unshelving", metadata: parkedAt(10) }, rules(shelve), 1)).toBe("report");
    expect(d({ status: "SHUTOFF", taskState: "powering-on", metadata: parkedAt(10) }, power().rules, 1)).toBe("report");
  });

  it("a resumed server back at rest a minute after the resume failed to resume: parked again, to be retried (issue 24 item 3)", () => {
    expect(d({ status: "SHELVED_OFFLOADED", metadata: parkedAt(10) }, rules(shelve), 0.1)).toBe("parked");
    expect(d({ status: "SHELVED_OFFLOADED", metadata: parkedAt(10) }, rules(shelve), 1)).toBe("parked");
  });

  it("a resumed server that went to ERROR (no host) is reported with Nova's fault, never replaced", () => {
    const s = server({ status: "ERROR", metadata: parkedAt(10) });
    const c = destinyOf({ ...s, fault: { code: 500, message: "No valid host was found." } }, rules(shelve), NOW, 0, ago(0.1));
    expect(c.destiny).toBe("report");
    expect(c.why).toContain("resume-failed");
    expect(c.why).toContain("No valid host");
  });

  it("a resumed server that is ACTIVE is an ordinary member", () => {
    expect(d({ status: "ACTIVE", metadata: parkedAt(10) }, rules(shelve), 1)).toBe("count");
  });

  it("a resume record older than the park mark is over: the server was parked again", () => {
    expect(d({ status: "SHELVED_OFFLOADED", metadata: parkedAt(1) }, rules(shelve), 5)).toBe("parked");
  });

  it("someone else bringing a parked server back is left alone and counted", () => {
    expect(d({ status: "SHELVED_OFFLOADED", taskState: "unshelving", metadata: parkedAt(1) })).toBe("wait");
  });

  it("someone else powering a server off or on is left alone and counted", () => {
    expect(d({ status: "ACTIVE", taskState: "powering-off" })).toBe("wait");
    expect(d({ status: "SHUTOFF", taskState: "powering-on" })).toBe("wait");
  });

  it("in a power group, SHUTOFF by someone else is parked under enforce and held under respect", () => {
    expect(d({ status: "SHUTOFF" }, power().rules)).toBe("parked");
    expect(d({ status: "SHELVED_OFFLOADED" }, power({ manualChanges: "respect" }).rules)).toBe("held");
  });

  it("a power group reports ERROR instead of replacing it", () => {
    expect(d({ status: "ERROR" }, power().rules)).toBe("report");
  });

  it("ignores a park mark novascale did not write", () => {
    expect(parkMarkOf(server({ metadata: { [PARK_KEY]: "yes" } }))).toBeUndefined();
    expect(d({ status: "SHUTOFF", metadata: { [PARK_KEY]: "yes" } })).toBe("replace");
  });
});

describe("plan: parking on scale-in", () => {
  it("shelves the excess instead of deleting it, oldest first", () => {
    const [a, b, c] = [server({ ageMin: 300 }), server({ ageMin: 200 }), server({ ageMin: 100 })];
    const r = planFor({ members: [c, a, b], desired: desired(1) });
    expect(r.steps.map((s) => [s.kind, "serverId" in s ? s.serverId : ""])).toEqual([
      ["park", a.id],
      ["park", b.id],
    ]);
    expect(r.steps[0]).toMatchObject({ action: "shelve" });
  });

  it("stops with scaleIn.action stop", () => {
    const r = planFor({ group: group(stop), members: servers(2), desired: desired(1) });
    expect(r.steps).toEqual([expect.objectContaining({ kind: "park", action: "stop" })]);
  });

  it("does not count parked servers", () => {
    const r = planFor({ members: [...servers(2), parkedServer(), parkedServer()], desired: desired(2) });
    expect(r.counted).toBe(2);
    expect(r.parked).toBe(2);
    expect(r.steps).toEqual([]);
  });

  it("parks high tiers first", () => {
    const low = server({ ageMin: 500, metadata: { [TIER_KEY]: "1" } });
    const high = server({ ageMin: 10, metadata: { [TIER_KEY]: "3" } });
    const r = planFor({ members: [low, high], desired: desired(1) });
    expect(ids(r.steps, "park")).toEqual([high.id]);
  });

  it("never parks a protected server", () => {
    const kept = server({ protected: true, ageMin: 999 });
    const r = planFor({ members: [kept, server()], desired: desired(0) });
    expect(ids(r.steps, "park")).not.toContain(kept.id);
  });

  it("a stop group neither deletes nor resumes its parked server while a snapshot of it uploads", () => {
    const uploading = parkedServer({ taskState: "image_uploading" });
    for (const want of [2, 3]) {
      const r = planFor({ group: group(stop), members: [...servers(2), uploading], desired: desired(want) });
      expect(ids(r.steps, "delete")).not.toContain(uploading.id);
      expect(ids(r.steps, "resume")).not.toContain(uploading.id);
      expect(r.parked).toBe(1);
    }
  });

  it("deletes the victims that do not fit the pool (pool.max)", () => {
    const members = [...servers(3), parkedServer()];
    const r = planFor({ group: group({ ...shelve, pool: { max: 2 } }), members, desired: desired(0) });
    expect(kinds(r.steps)).toEqual(["park", "delete", "delete"]);
  });

  it("deletes the oldest parked members when the pool is over pool.max", () => {
    const [old, young] = [parkedServer({ ageMin: 900 }), parkedServer({ ageMin: 100 })];
    const r = planFor({ group: group({ ...shelve, pool: { max: 1 } }), members: [...servers(3), young, old], desired: desired(3) });
    expect(r.steps).toEqual([expect.objectContaining({ kind: "delete", serverId: old.id })]);
  });

  it("empties the pool when scaleIn.action goes back to delete", () => {
    const p = parkedServer();
    const r = planFor({ group: group(), members: [...servers(3), p], desired: desired(3) });
    expect(ids(r.steps, "delete")).toEqual([p.id]);
  });

  it("parks a server started by hand first under enforce", () => {
    const woken = server({ ageMin: 5, metadata: parkedAt(2) });
    const r = planFor({ members: [server({ ageMin: 500 }), woken], desired: desired(1) });
    expect(ids(r.steps, "park")).toEqual([woken.id]);
  });

  it("under respect, leaves a server started by hand up until desired changes after its park", () => {
    const woken = server({ metadata: parkedAt(2) });
    const g = group({ ...shelve, manualChanges: "respect" });
    const before = { ...desired(0), since: ago(3).toISOString() };
    const r = planFor({ group: g, members: [woken], desired: before });
    expect(r.steps).toEqual([]);
    expect(r.notices.map((n) => n.code)).toContain("scale-in-blocked");
    const after = { ...desired(0), since: ago(1).toISOString() };
    expect(ids(planFor({ group: g, members: [woken], desired: after }).steps, "park")).toEqual([woken.id]);
  });
});

describe("plan: respect re-parks at the next decision, whatever decided (issue 24 item 9)", () => {
  const g = () => group({ ...stop, manualChanges: "respect", schedules: [{ window: "Mon-Fri 08:00-20:00", timezone: "UTC", desired: 0 }] });

  it("a window that opened after the server was started by hand parks it again", () => {
    // NOW is Thursday 12:00 UTC: the window opened at 08:00, after the server was parked (06:00) and started by hand.
    const woken = server({ metadata: { [PARK_KEY]: formatParkMark(ago(6)) } });
    const d = desiredCount(g().rules, undefined, NOW);
    expect(d.since).toBe("2026-11-26T08:00:00.000Z");
    expect(ids(planFor({ group: g(), members: [woken], desired: d }).steps, "park")).toEqual([woken.id]);
  });

  it("inside the same window period it stays up", () => {
    const woken = server({ metadata: { [PARK_KEY]: formatParkMark(ago(1)) } });
    const d = desiredCount(g().rules, undefined, NOW);
    expect(planFor({ group: g(), members: [woken], desired: d }).steps).toEqual([]);
  });

  it("an exception day's period starts at its first local midnight", () => {
    const r = rules({ exceptions: [{ name: "holidays", dates: ["2026-11-25", "2026-11-26"], timezone: "UTC", desired: 0 }] });
    expect(desiredCount(r, undefined, NOW).since).toBe("2026-11-25T00:00:00.000Z");
  });
});

describe("plan: a park Nova did not confirm", () => {
  it("under respect, a server still ACTIVE after a park answered by a 5xx is parked again, not taken for one started by hand", () => {
    const failed = server({ metadata: { [PARK_KEY]: formatParkMark(ago(0.02), true) } });
    const g = group({ ...stop, manualChanges: "respect" });
    const night = { ...desired(0), since: ago(1).toISOString() };
    expect(ids(planFor({ group: g, members: [failed], desired: night }).steps, "park")).toEqual([failed.id]);
  });
});

describe("plan: resuming on scale-out", () => {
  it("resumes parked members before booting, then boots what is still missing", () => {
    const [p1, p2] = [parkedServer(), parkedServer({ status: "SHELVED_OFFLOADED" })];
    const r = planFor({ members: [p1, p2], desired: desired(3) });
    expect(kinds(r.steps)).toEqual(["resume", "resume", "boot"]);
    expect(r.steps[2]).toMatchObject({ count: 1 });
    expect(r.steps[0]).toMatchObject({ serverId: p1.id, action: "start", takesQuota: false });
    expect(r.steps[1]).toMatchObject({ serverId: p2.id, action: "unshelve", takesQuota: true });
  });

  it("resumes low tiers first, then the quickest to come back", () => {
    const high = parkedServer({ metadata: { [TIER_KEY]: "2" } });
    const offloaded = parkedServer({ status: "SHELVED_OFFLOADED" });
    const off = parkedServer({ status: "SHUTOFF" });
    const r = planFor({ members: [high, offloaded, off], desired: desired(2) });
    expect(ids(r.steps, "resume")).toEqual([off.id, offloaded.id]);
  });

  it("does not resume or boot again while a resumed server is coming back", () => {
    const back = server({ status: "SHELVED_OFFLOADED", taskState: "unshelving", metadata: parkedAt(10) });
    const r = planFor({ members: [back], desired: desired(1), resuming: { [back.id]: ago(0.05).toISOString() } });
    expect(r.steps).toEqual([]);
  });

  it("never deletes a member whose unshelve Nova accepted but could not place: reports it and resumes it again (issue 24 item 3)", () => {
    const stuck = server({ status: "SHELVED_OFFLOADED", metadata: parkedAt(10) });
    const r = planFor({ members: [stuck], desired: desired(1), resuming: { [stuck.id]: ago(2).toISOString() } });
    expect(kinds(r.steps)).toEqual(["resume"]);
    expect(r.notices.map((n) => n.code)).toContain("resume-failed");
  });

  it("a member whose resume failed is retried after the other parked members", () => {
    const failed = server({ status: "SHUTOFF", ageMin: 900, metadata: parkedAt(10) });
    const other = server({ status: "SHELVED_OFFLOADED", ageMin: 100, metadata: parkedAt(10) });
    const r = planFor({ members: [failed, other], desired: desired(1), resuming: { [failed.id]: ago(0.5).toISOString() } });
    expect(ids(r.steps, "resume")).toEqual([other.id]);
  });

  it("never deletes a member still coming back after the build timeout: reported resume-failed", () => {
    const stuck = server({ status: "SHELVED_OFFLOADED", taskState: "unshelving", metadata: parkedAt(10) });
    const r = planFor({ members: [stuck], desired: desired(1), resuming: { [stuck.id]: ago(2).toISOString() } });
    expect(r.steps.filter((s) => s.kind === "delete")).toEqual([]);
    expect(r.notices.map((n) => n.code)).toContain("resume-failed");
  });

  it("removes the park mark of a resumed server once it is ACTIVE again", () => {
    const back = server({ status: "ACTIVE", metadata: parkedAt(10) });
    const r = planFor({ members: [back], desired: desired(1), resuming: { [back.id]: ago(0.1).toISOString() } });
    expect(r.steps).toEqual([expect.objectContaining({ kind: "unmark", serverId: back.id })]);
  });
});

describe("plan: power groups", () => {
  it("stops the excess and starts parked ones, never booting or deleting", () => {
    const r = planFor({ group: power(), members: servers(3), desired: desired(1) });
    expect(kinds(r.steps)).toEqual(["park", "park"]);
    const back = planFor({ group: power(), members: [parkedServer(), parkedServer()], desired: desired(2) });
    expect(kinds(back.steps)).toEqual(["resume", "resume"]);
  });

  it("reports what it cannot start instead of booting", () => {
    const r = planFor({ group: power(), members: [parkedServer()], desired: desired(3) });
    expect(kinds(r.steps)).toEqual(["resume"]);
    expect(r.notices.map((n) => n.code)).toContain("power-short");
  });

  it("reports a member that did not come back and does not count it", () => {
    const gone = server({ status: "SHUTOFF", taskState: "powering-on", metadata: parkedAt(10) });
    const r = planFor({ group: power(), members: [gone], desired: desired(1), resuming: { [gone.id]: ago(2).toISOString() } });
    expect(r.steps).toEqual([]);
    expect(r.notices.map((n) => n.code)).toContain("resume-failed");
  });

  it("under respect, leaves a server stopped by someone else alone", () => {
    const r = planFor({ group: power({ manualChanges: "respect" }), members: [server({ status: "SHUTOFF" })], desired: desired(1) });
    expect(r.steps).toEqual([]);
    expect(r.notices.map((n) => n.code)).toEqual(expect.arrayContaining(["held-by-hand", "power-short"]));
  });
});

describe("limits: resumes share the boot cap and unshelves the quota", () => {
  const ceiling = { max: 20, present: 0 };
  const resume = (takesQuota: boolean, id: string): Step => ({ kind: "resume", group: "web", serverId: id, serverName: id, action: takesQuota ? "unshelve" : "start", takesQuota, reason: "r" });

  it("caps resumes and boots together at maxBootsPerTick", () => {
    const r = limitSteps([resume(false, "a"), resume(false, "b"), { kind: "boot", group: "web", count: 3, reason: "b" }], { maxBootsPerTick: 3, maxDeletesPerTick: 10, ceiling });
    expect(r.steps.map((s) => (s.kind === "boot" ? `boot ${s.count}` : s.kind))).toEqual(["resume", "resume", "boot 1"]);
  });

  it("checks an unshelve from SHELVED_OFFLOADED against cores, not instances", () => {
    const quota = { instances: 0, cores: 2, ramMB: null };
    const r = limitSteps([resume(true, "a"), resume(true, "b"), resume(false, "c")], { maxBootsPerTick: 10, maxDeletesPerTick: 10, quota, flavor: { vcpus: 2, ramMB: 512 }, ceiling });
    expect(r.steps.map((s) => ("serverId" in s ? s.serverId : ""))).toEqual(["a", "c"]);
    expect(r.notices.find((n) => n.code === "capacity-limited")?.message).toContain("cores");
  });

  it("counts resumes under the group's max, so boots never take it past max", () => {
    const r = limitSteps([resume(false, "a"), { kind: "boot", group: "web", count: 2, reason: "b" }], { maxBootsPerTick: 10, maxDeletesPerTick: 10, ceiling: { max: 3, present: 1 } });
    expect(r.steps.map((s) => (s.kind === "boot" ? `boot ${s.count}` : s.kind))).toEqual(["resume", "boot 1"]);
  });

  it("never resumes past max while a broken member stays, even with its delete in the same tick (issue 24 item 11)", () => {
    const del: Step = { kind: "delete", group: "web", serverId: "broken", serverName: "broken", reason: "d" };
    const r = limitSteps([del, resume(false, "a")], { maxBootsPerTick: 10, maxDeletesPerTick: 10, ceiling: { max: 3, present: 3 } });
    expect(r.steps.map((s) => s.kind)).toEqual(["delete"]);
    expect(r.notices.map((n) => n.code)).toContain("resume-at-max");
  });

  it("a protected broken member keeps its place: resumes stop at max", () => {
    const r = limitSteps([resume(false, "a"), resume(false, "b")], { maxBootsPerTick: 10, maxDeletesPerTick: 10, ceiling: { max: 3, present: 2 } });
    expect(r.steps.map((s) => ("serverId" in s ? s.serverId : ""))).toEqual(["a"]);
  });

  it("counts parks against maxDeletesPerTick", () => {
    const park: Step = { kind: "park", group: "web", serverId: "x", serverName: "x", action: "stop", reason: "p" };
    expect(limitSteps([park, { ...park, serverId: "y" }], { maxBootsPerTick: 1, maxDeletesPerTick: 1, ceiling }).steps).toHaveLength(1);
  });
});

describe("ledger: server-hours parked", () => {
  it("opens a span at the park mark's time and closes it when the server is no longer parked", () => {
    const p = parkedServer({}, 5);
    const open = updateLedger([], [p], NOW);
    expect(open).toEqual([{ id: p.id, name: p.name, from: ago(5).toISOString() }]);
    const later = new Date(NOW.getTime() + 3 * HOUR);
    const closed = updateLedger(open, [], later);
    expect(parkedServerHours(closed, later, 7)).toBe(8);
  });

  it("counts only the part of a span inside the window", () => {
    const ledger = [{ id: "a", name: "a", from: ago(24 * 10).toISOString(), to: ago(24 * 6).toISOString() }];
    expect(parkedServerHours(ledger, NOW, 7)).toBe(24);
    expect(parkedServerHours(ledger, NOW, 30)).toBe(96);
  });

  it("drops spans that ended more than 30 days ago", () => {
    const ledger = [{ id: "a", name: "a", from: ago(24 * 40).toISOString(), to: ago(24 * 31).toISOString() }];
    expect(updateLedger(ledger, [], NOW)).toEqual([]);
  });

  it("keeps a resume record until its server is back and unmarked, parked again, or gone", () => {
    const marked = parkedServer({ id: "r1", status: "ACTIVE" }, 10);
    const records = updateResumes([], [marked], ["r1"], NOW);
    expect(records).toEqual([{ id: "r1", at: NOW.toISOString() }]);
    expect(updateResumes(records, [marked], [], NOW)).toEqual(records);
    expect(updateResumes(records, [server({ id: "r1" })], [], NOW)).toEqual([]);
    expect(updateResumes(records, [parkedServer({ id: "r1" }, -1)], [], NOW)).toEqual([]);
    expect(updateResumes(records, [], [], NOW)).toEqual([]);
  });

  it("shows who is parked since when", () => {
    const ledger = updateLedger([], [parkedServer({ id: "p1" }, 2)], NOW);
    expect(parkingStatus(true, ledger, NOW)?.parked).toEqual([expect.objectContaining({ id: "p1", since: ago(2).toISOString() })]);
    expect(parkingStatus(false, [], NOW)).toBeNull();
  });
});
