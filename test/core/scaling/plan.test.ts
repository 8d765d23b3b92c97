// The planner: boots and deletes toward desired, replacements, victim order, protection, partial listings, pause.
import { describe, expect, it } from "vitest";
import { plan, type PlanInput } from "../../../src/core/scaling/plan.ts";
import { BOOT_INTENT_KEY } from "../../../src/core/model/membership.ts";
import type { Step } from "../../../src/core/model/types.ts";
import { NOW, desired, group, server, servers } from "../builders.ts";

function planFor(input: Partial<PlanInput> & Pick<PlanInput, "members">) {
  return plan({ group: group(), desired: desired(3), now: NOW, listingComplete: true, ...input });
}

const boots = (steps: Step[]) => steps.filter((s) => s.kind === "boot");
const deletedIds = (steps: Step[]) => steps.flatMap((s) => (s.kind === "delete" ? [s.serverId] : []));
const codes = (r: { notices: Array<{ code: string }> }) => r.notices.map((n) => n.code);

describe("plan: scale out", () => {
  it("boots the missing servers in one step with their count", () => {
    const r = planFor({ members: servers(1), desired: desired(3) });
    expect(r.steps).toEqual([expect.objectContaining({ kind: "boot", group: "web", count: 2 })]);
  });

  it("says why: desired and its reason, and what was counted", () => {
    const r = planFor({ members: servers(1), desired: desired(3) });
    expect(r.steps[0]?.reason).toBe("scale out: desired 3 (test desires 3), counted 1; boot 2");
  });

  it("counts servers in BUILD, so a second tick does not boot them again", () => {
    const r = planFor({ members: servers(3, { status: "BUILD", ageMin: 2 }), desired: desired(3) });
    expect(r.steps).toEqual([]);
  });

  it("counts transitional and unknown servers and leaves them alone", () => {
    const r = planFor({ members: [server({ status: "REBOOT" }), server({ status: "RESIZE" }), server({ status: "WEIRD" })], desired: desired(3) });
    expect(r.steps).toEqual([]);
    expect(r.counted).toBe(3);
  });

  it("does not count servers being deleted", () => {
    const r = planFor({ members: [server({ status: "ACTIVE", taskState: "deleting" }), server()], desired: desired(2) });
    expect(boots(r.steps)).toEqual([expect.objectContaining({ count: 1 })]);
  });

  it("does nothing when actual equals desired", () => {
    expect(planFor({ members: servers(3), desired: desired(3) }).steps).toEqual([]);
  });
});

describe("plan: replacements", () => {
  it("deletes an ERROR server and boots its replacement in the same plan", () => {
    const broken = server({ status: "ERROR" });
    const r = planFor({ members: [...servers(2), broken], desired: desired(3) });
    expect(deletedIds(r.steps)).toEqual([broken.id]);
    expect(boots(r.steps)).toEqual([expect.objectContaining({ count: 1 })]);
    expect(boots(r.steps)[0]?.reason).toContain("including 1 replacement(s)");
  });

  it("says why a broken server goes", () => {
    const broken = server({ name: "web-broken", status: "ERROR" });
    const r = planFor({ members: [broken, ...servers(2)], desired: desired(3) });
    expect(r.steps[0]?.reason).toBe("remove broken: web-broken is ERROR; it does not count toward desired 3");
  });

  it("names Nova's fault message in the reason an ERROR server is deleted", () => {
    const broken = { ...server({ name: "web-broken", status: "ERROR" }), fault: { code: 500, message: "No valid host was found. There are not enough hosts available." } };
    const r = planFor({ members: [broken, ...servers(2)], desired: desired(3) });
    expect(r.steps[0]?.reason).toBe("remove broken: web-broken is ERROR (Nova fault 500: No valid host was found. There are not enough hosts available.); it does not count toward desired 3");
  });

  it("deletes and replaces a server stuck in BUILD past the timeout", () => {
    const stuck = server({ status: "BUILD", ageMin: 45 });
    const r = planFor({ members: [...servers(2), stuck], desired: desired(3) });
    expect(deletedIds(r.steps)).toEqual([stuck.id]);
    expect(r.steps.find((s) => s.kind === "delete")?.reason).toContain("stuck in BUILD for 45 min");
    expect(boots(r.steps)).toEqual([expect.objectContaining({ count: 1 })]);
  });

  it("deletes and replaces a SHUTOFF server by default", () => {
    const off = server({ status: "SHUTOFF" });
    const r = planFor({ members: [...servers(2), off], desired: desired(3) });
    expect(deletedIds(r.steps)).toEqual([off.id]);
  });

  it("keeps a SHUTOFF server that counts when replaceShutoff is off", () => {
    const r = planFor({ group: group({ replaceShutoff: false }), members: [...servers(2), server({ status: "SHUTOFF" })], desired: desired(3) });
    expect(r.steps).toEqual([]);
  });

  it("never deletes a protected ERROR server, but still boots a replacement", () => {
    const broken = server({ status: "ERROR", protected: true });
    const r = planFor({ members: [...servers(2), broken], desired: desired(3) });
    expect(deletedIds(r.steps)).toEqual([]);
    expect(boots(r.steps)).toEqual([expect.objectContaining({ count: 1 })]);
    expect(codes(r)).toContain("protected-not-replaced");
  });

  it("deletes a broken server even when the group is at or above desired", () => {
    const broken = server({ status: "ERROR" });
    const r = planFor({ members: [...servers(3), broken], desired: desired(3) });
    expect(r.steps).toEqual([expect.objectContaining({ kind: "delete", serverId: broken.id })]);
  });
});

describe("plan: scale-in victims", () => {
  it("deletes the oldest ACTIVE servers first by default", () => {
    const young = server({ ageMin: 10 });
    const old = server({ ageMin: 500 });
    const middle = server({ ageMin: 100 });
    const r = planFor({ members: [young, old, middle], desired: desired(1) });
    expect(deletedIds(r.steps)).toEqual([old.id, middle.id]);
  });

  it("deletes the newest first with scaleIn.order newest-first", () => {
    const young = server({ ageMin: 10 });
    const old = server({ ageMin: 500 });
    const r = planFor({ group: group({ scaleIn: { order: "newest-first" } }), members: [old, young], desired: desired(1) });
    expect(deletedIds(r.steps)).toEqual([young.id]);
  });

  it("breaks ties on creation time by id", () => {
    const b = server({ id: "b", ageMin: 60 });
    const a = server({ id: "a", ageMin: 60 });
    const r = planFor({ members: [b, a], desired: desired(1) });
    expect(deletedIds(r.steps)).toEqual(["a"]);
  });

  it("takes servers in BUILD before ACTIVE ones", () => {
    const active = server({ status: "ACTIVE", ageMin: 500 });
    const building = server({ status: "BUILD", ageMin: 5 });
    const r = planFor({ members: [active, building], desired: desired(1) });
    expect(deletedIds(r.steps)).toEqual([building.id]);
  });

  it("takes a SHUTOFF server kept by policy before BUILD and ACTIVE", () => {
    const building = server({ status: "BUILD", ageMin: 5 });
    const active = server({ ageMin: 500 });
    const off = server({ status: "SHUTOFF", ageMin: 1 });
    const r = planFor({ group: group({ replaceShutoff: false }), members: [active, building, off], desired: desired(1) });
    expect(deletedIds(r.steps)).toEqual([off.id, building.id]);
  });

  it("never takes a protected server, even the oldest", () => {
    const oldest = server({ ageMin: 900, protected: true });
    const next = server({ ageMin: 500 });
    const r = planFor({ members: [oldest, next, server({ ageMin: 10 })], desired: desired(2) });
    expect(deletedIds(r.steps)).toEqual([next.id]);
  });

  it("never takes a transitional server, and reports the excess it could not remove", () => {
    const r = planFor({ members: [server({ status: "REBOOT" }), server({ status: "RESIZE" }), server({ protected: true })], desired: desired(1) });
    expect(r.steps).toEqual([]);
    expect(codes(r)).toContain("scale-in-blocked");
  });

  it("says why a victim goes: desired, counted, its rank and creation time", () => {
    const old = server({ name: "web-old", ageMin: 500 });
    const r = planFor({ members: [old, server()], desired: desired(1) });
    expect(r.steps[0]?.reason).toBe(`scale in: desired 1 (test desires 1), counted 2; victim 1 of 1: web-old (ACTIVE, created ${old.created}, oldest-first)`);
  });

  it("never picks the oldest server while its snapshot uploads: servers with a task under way go last", () => {
    const uploading = server({ ageMin: 900, taskState: "image_uploading" });
    const snapshotting = server({ ageMin: 800, taskState: "image_snapshot" });
    const pending = server({ ageMin: 700, taskState: "image_pending_upload" });
    const idle = server({ ageMin: 10 });
    expect(deletedIds(planFor({ members: [uploading, snapshotting, pending, idle], desired: desired(3) }).steps)).toEqual([idle.id]);
  });

  it("a server whose snapshot uploads is no victim at all, even when no one else is left to delete (issue 24, combination property)", () => {
    const uploading = server({ ageMin: 900, taskState: "image_uploading" });
    const idle = server({ ageMin: 10 });
    const r = planFor({ members: [uploading, idle], desired: desired(0) });
    expect(deletedIds(r.steps)).toEqual([idle.id]);
  });

  it("says the scale-in waits for a busy server: scale-in-blocked", () => {
    const r = planFor({ members: [server({ taskState: "image_snapshot" })], desired: desired(0) });
    expect(codes(r)).toContain("scale-in-blocked");
  });

  it("a busy server that is not snapshotting (rebooting task) is still the last victim", () => {
    const busy = server({ ageMin: 900, taskState: "rebooting" });
    const idle = server({ ageMin: 10 });
    expect(deletedIds(planFor({ members: [busy, idle], desired: desired(0) }).steps)).toEqual([idle.id, busy.id]);
  });

  it("a busy server goes after idle ones whatever the order (newest-first too)", () => {
    const busy = server({ ageMin: 1, taskState: "image_snapshot" });
    const idle = server({ ageMin: 500 });
    const r = planFor({ group: group({ scaleIn: { order: "newest-first" } }), members: [busy, idle, server({ ageMin: 600 })], desired: desired(2) });
    expect(deletedIds(r.steps)).toEqual([idle.id]);
  });

  it("a server with an unreadable creation time goes last among its rank", () => {
    const unknownAge = { ...server({ id: "a" }), created: "garbage" };
    const known = server({ id: "b", ageMin: 1 });
    const r = planFor({ members: [unknownAge, known], desired: desired(1) });
    expect(deletedIds(r.steps)).toEqual(["b"]);
  });
});

describe("plan: safety", () => {
  it("ignores servers without the group tag, and reports them", () => {
    const stranger = server({ group: null });
    const r = planFor({ members: [stranger, ...servers(3)], desired: desired(0) });
    expect(deletedIds(r.steps)).not.toContain(stranger.id);
    expect(r.counted).toBe(3);
    expect(codes(r)).toContain("ignored-non-members");
  });

  it("ignores servers of another group", () => {
    const other = server({ group: "db", status: "ERROR" });
    const r = planFor({ members: [other, ...servers(3)], desired: desired(3) });
    expect(r.steps).toEqual([]);
  });

  it("deletes nothing when the listing was incomplete, and says so", () => {
    const r = planFor({ members: [...servers(5), server({ status: "ERROR" })], desired: desired(2), listingComplete: false });
    expect(deletedIds(r.steps)).toEqual([]);
    expect(codes(r)).toContain("listing-incomplete");
  });

  it("still boots on an incomplete listing (the count is a lower bound)", () => {
    const r = planFor({ members: servers(1), desired: desired(3), listingComplete: false });
    expect(boots(r.steps)).toEqual([expect.objectContaining({ count: 2 })]);
  });
});

describe("plan: paused", () => {
  it("plans no steps at all, whatever the state", () => {
    const r = planFor({ members: [server({ status: "ERROR" }), ...servers(8)], desired: desired(3, "paused") });
    expect(r.steps).toEqual([]);
    expect(codes(r)).toContain("paused");
  });

  it("still reports the actual state", () => {
    const r = planFor({ members: [server({ status: "ERROR" }), ...servers(2)], desired: desired(3, "paused") });
    expect(r.actualByStatus).toEqual({ ERROR: 1, ACTIVE: 2 });
    expect(r.counted).toBe(2);
  });
});

describe("plan: reporting", () => {
  it("reports members by status", () => {
    const r = planFor({ members: [server(), server(), server({ status: "BUILD", ageMin: 1 }), server({ status: "shutoff" })], desired: desired(4) });
    expect(r.actualByStatus).toEqual({ ACTIVE: 2, BUILD: 1, SHUTOFF: 1 });
  });

  it("reports each server with an unknown status", () => {
    const r = planFor({ members: [server({ status: "HIBERNATING", name: "web-x" })], desired: desired(1) });
    expect(r.notices).toContainEqual(expect.objectContaining({ code: "unknown-status", level: "warning" }));
    expect(r.notices.find((n) => n.code === "unknown-status")?.message).toContain("web-x");
  });

  it("reports servers a retried tick already booted under the same boot intent", () => {
    const r = planFor({ members: servers(2, { status: "BUILD", ageMin: 1, metadata: { [BOOT_INTENT_KEY]: "tick-1" } }), desired: desired(2), bootIntent: "tick-1" });
    expect(r.steps).toEqual([]);
    expect(codes(r)).toContain("boot-intent-seen");
  });
});

describe("plan: servers novascale did not boot are never deleted (issue 24 item 2)", () => {
  const handTagged = (spec: Parameters<typeof server>[0] = {}) => server({ booted: false, ...spec });

  it("a group switched from power to elastic reports an operator's stopped server instead of deleting it", () => {
    const stopped = handTagged({ status: "SHUTOFF" });
    const r = planFor({ members: [stopped, ...servers(1)], desired: desired(2) });
    expect(deletedIds(r.steps)).toEqual([]);
    expect(codes(r)).toContain("member-broken");
  });

  it("an operator's ERROR server is reported, not deleted, and a replacement is booted within max", () => {
    const broken = handTagged({ status: "ERROR" });
    const r = planFor({ members: [broken, ...servers(1)], desired: desired(2) });
    expect(deletedIds(r.steps)).toEqual([]);
    expect(boots(r.steps)).toEqual([expect.objectContaining({ count: 1 })]);
    expect(r.present).toBe(2);
  });

  it("scale-in of a group that deletes never picks a server it did not boot, and says so when it is left short", () => {
    const theirs = handTagged({ ageMin: 500 });
    const ours = server({ ageMin: 100 });
    const r = planFor({ members: [theirs, ours], desired: desired(0) });
    expect(deletedIds(r.steps)).toEqual([ours.id]);
    expect(codes(r)).toContain("not-booted-kept");
  });

  it("an adopted server counts as booted: it may be a victim", () => {
    const theirs = handTagged({ ageMin: 500 });
    const r = planFor({ members: [theirs], desired: desired(0), adopted: [theirs.id] });
    expect(deletedIds(r.steps)).toEqual([theirs.id]);
  });

  it("a group whose pool is full parks an operator's server beyond pool.max instead of deleting it", () => {
    const theirs = handTagged({ ageMin: 500 });
    const r = planFor({ group: group({ scaleIn: { action: "stop" }, pool: { max: 0 } }), members: [theirs], desired: desired(0) });
    expect(deletedIds(r.steps)).toEqual([]);
    expect(r.steps).toEqual([expect.objectContaining({ kind: "park", serverId: theirs.id })]);
  });

  it("the pool cap (scaleIn.action changed to delete) deletes only parked servers novascale booted", () => {
    const mark = { "novascale:park": "parked 2026-11-26T01:00:00.000Z" };
    const theirs = handTagged({ status: "SHUTOFF", metadata: mark });
    const ours = server({ status: "SHUTOFF", metadata: mark });
    const r = planFor({ group: group({ scaleIn: { action: "delete" } }), members: [theirs, ours, ...servers(1)], desired: desired(1) });
    expect(deletedIds(r.steps)).toEqual([ours.id]);
  });
});
