// Flavor fallback end to end on the fake cloud: the preferred flavor has no room -> the group fills with the next; room again -> new boots take the preferred.
import { createExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import type { Env } from "../../src/config/env.ts";
import { TOKENS } from "../api/support.ts";
import { forgetGroups, rules, world } from "./world.ts";

afterEach(forgetGroups);

const T = (hhmm: string) => `2026-11-26T${hhmm}:00.000Z`;
const PREFS = ["m1.large", "m1.medium"];

interface MemberView {
  name: string;
  status: string;
  flavor: string | null;
  flavorWhy: string;
  flavorReason: string;
}

async function membersView(env: Env, group: string): Promise<MemberView[]> {
  const req = new Request(`http://novascale.test/v1/groups/${group}/members`, { headers: { Authorization: `Bearer ${TOKENS.read}` } });
  const res = await worker.fetch(req, env, createExecutionContext());
  expect(res.status).toBe(200);
  return ((await res.json()) as { servers: MemberView[] }).servers;
}

/** A group of 3 preferring m1.large, on a cloud with no room for m1.large. */
async function full(name: string) {
  const w = await world({ capacity: { "m1.large": 0 } });
  await w.service.putGroup(name, rules({ default: 3, flavor: PREFS }), { author: "alice" });
  return w;
}

describe("flavor fallback on a cloud with no room for the preferred flavor", () => {
  it("the group fills with the second flavor: the first boots go to ERROR (NoValidHost), the next tick boots m1.medium", async () => {
    const { tick, members } = await full("ff-fill");
    await tick(T("08:00")); // 3 x m1.large, placed nowhere
    expect((await members("ff-fill")).map((s) => s.flavor)).toEqual(["m1.large", "m1.large", "m1.large"]);
    await tick(T("08:01")); // ERROR with NoValidHost: m1.large marked; deleted and replaced by m1.medium
    await tick(T("08:02")); // m1.medium ACTIVE
    const now = await members("ff-fill");
    expect(now.map((s) => [s.flavor, s.status])).toEqual([
      ["m1.medium", "ACTIVE"],
      ["m1.medium", "ACTIVE"],
      ["m1.medium", "ACTIVE"],
    ]);
  });

  it("the notice and the activity say which flavor had no room and until when m1.medium boots", async () => {
    const { service, tick } = await full("ff-say");
    await tick(T("08:00"));
    await tick(T("08:01"));
    const status = await service.status("ff-say", new Date(T("08:01")));
    expect(status.lastTick?.notices.find((n) => n.code === "flavor-fallback")?.message).toBe("m1.large has no room (NoValidHost), booting m1.medium until 08:31 UTC");
    expect(status.flavors).toMatchObject({ preferences: PREFS, bootsWith: "m1.medium", fallback: true, marks: [{ flavor: "m1.large", until: "2026-11-26T08:31:00.000Z" }] });
    const marked = (await service.activity("ff-say", 50)).filter((a) => a.kind === "flavor-unavailable");
    expect(marked.map((a) => a.reason)).toEqual(["m1.large has no room (NoValidHost): new boots skip it until 2026-11-26T08:31:00.000Z (30 min, strike 1)"]);
    expect((await service.activity("ff-say", 50)).find((a) => a.kind === "boot" && a.reason.includes("flavor m1.medium"))).toBeDefined();
  });

  it("it is not a config error: no boot block, and the group converges", async () => {
    const { service, tick } = await full("ff-noblock");
    for (const at of ["08:00", "08:01", "08:02", "08:03"]) await tick(T(at));
    const status = await service.status("ff-noblock", new Date(T("08:03")));
    expect(status.bootBlock).toBeNull();
    expect(status.bootsBlocked).toBeNull();
    expect(status.health).toBe("steady");
  });

  it("the members view says which flavor each member runs and why", async () => {
    const { workerEnv, tick } = await full("ff-view");
    for (const at of ["08:00", "08:01", "08:02"]) await tick(T(at));
    const view = await membersView(workerEnv, "ff-view");
    expect(view).toHaveLength(3);
    for (const m of view) {
      expect(m).toMatchObject({ flavor: "m1.medium", flavorWhy: "fallback" });
      // The route's clock is the wall clock, past this test's 08:31: the mark has ended; no refresh rules, so it stays.
      expect(m.flavorReason).toBe("fallback: booted while m1.large was unavailable; it stays until scale-in (the group has no refresh rules)");
    }
  });

  it("room again: once the mark ends, new boots take the preferred flavor; the fallback members stay (the refresh moves them)", async () => {
    const { cloud, service, tick, members } = await full("ff-back");
    for (const at of ["08:00", "08:01", "08:02"]) await tick(T(at)); // 3 x m1.medium
    await cloud.setCapacity({ flavors: null });
    await service.putGroup("ff-back", rules({ default: 4, flavor: PREFS }), { author: "alice" });
    await tick(T("08:10")); // the mark holds until 08:31: the 4th is m1.medium too
    await service.putGroup("ff-back", rules({ default: 5, flavor: PREFS }), { author: "alice" });
    await tick(T("08:31")); // the mark ended: the 5th is m1.large
    await tick(T("08:32"));
    const flavors = (await members("ff-back")).map((s) => s.flavor).sort();
    expect(flavors).toEqual(["m1.large", "m1.medium", "m1.medium", "m1.medium", "m1.medium"]);
    const status = await service.status("ff-back", new Date(T("08:32")));
    expect(status.flavors).toMatchObject({ bootsWith: "m1.large", fallback: false, marks: [] });
  });

  it("a single flavor with no room stays as it was: no fallback notice, no marks, the boot backoff paces it", async () => {
    const { service, tick } = await world({ capacity: { "m1.large": 0 } });
    await service.putGroup("ff-single", rules({ default: 1, flavor: "m1.large" }), { author: "alice" });
    for (const at of ["08:00", "08:01", "08:02"]) await tick(T(at));
    const status = await service.status("ff-single", new Date(T("08:02")));
    expect(status.flavors).toMatchObject({ preferences: ["m1.large"], bootsWith: "m1.large", fallback: false, marks: [] });
    expect(status.lastTick?.notices.map((n) => n.code)).not.toContain("flavor-fallback");
    expect(status.bootBackoff?.failures).toBe(2);
  });
});

describe("down a list of three", () => {
  it("the second flavor full too: it is marked when its servers go to ERROR, and the group ends on the third (the boot backoff paces the steps)", async () => {
    const { service, tick, members } = await world({ capacity: { "m1.large": 0, "m1.medium": 0 } });
    await service.putGroup("ff-three", rules({ default: 2, flavor: ["m1.large", "m1.medium", "m1.small"] }), { author: "alice" });
    for (const at of ["08:00", "08:01", "08:02", "08:03", "08:04", "08:05"]) await tick(T(at));
    const now = await members("ff-three");
    expect(now.map((s) => [s.flavor, s.status])).toEqual([
      ["m1.small", "ACTIVE"],
      ["m1.small", "ACTIVE"],
    ]);
    const status = await service.status("ff-three", new Date(T("08:05")));
    expect(status.flavors?.marks.map((m) => m.flavor)).toEqual(["m1.large", "m1.medium"]);
    expect(status.flavors?.reason).toBe("m1.large has no room (NoValidHost), m1.medium has no room (NoValidHost), booting m1.small until 08:31 UTC");
  });
});

describe("the dry run", () => {
  it("plans boots with the fallback flavor and says so, storing nothing", async () => {
    const { service, tick } = await full("ff-plan");
    for (const at of ["08:00", "08:01", "08:02"]) await tick(T(at));
    await service.putGroup("ff-plan", rules({ default: 4, flavor: PREFS }), { author: "alice" });
    const preview = await service.planPreview("ff-plan", new Date(T("08:03")));
    const boot = preview.steps.find((s) => s.kind === "boot");
    expect(boot?.reason).toMatch(/; flavor m1.medium: m1.large has no room \(NoValidHost\), booting m1.medium until 08:31 UTC$/);
    expect(preview.notices.map((n) => n.code)).toContain("flavor-fallback");
  });
});

describe("flavor fallback on quota", () => {
  it("no server of the preferred flavor fits the cores left (/limits): that flavor is marked, the next tick boots the next one, which fits", async () => {
    // 6 cores: one m1.large (4) fits, a second does not; m1.medium (2) does.
    const { service, tick, members } = await world({ quotas: { cores: 6 } });
    await service.putGroup("ff-quota", rules({ default: 2, flavor: PREFS }), { author: "alice" });
    await tick(T("08:00")); // 1 x m1.large; the second is cut by the quota check (capacity-limited)
    expect((await members("ff-quota")).map((s) => s.flavor)).toEqual(["m1.large"]);
    await tick(T("08:01")); // still no room for m1.large: marked for quota; nothing boots this tick (one step per tick)
    expect((await members("ff-quota")).map((s) => s.flavor)).toEqual(["m1.large"]);
    const status = await service.status("ff-quota", new Date(T("08:01")));
    expect(status.flavors?.marks.map((m) => [m.flavor, m.cause])).toEqual([["m1.large", "hit quota (cores left (/limits) take no server of this flavor)"]]);
    expect(status.bootBlock).toBeNull();
    await tick(T("08:02")); // m1.medium
    expect((await members("ff-quota")).map((s) => s.flavor).sort()).toEqual(["m1.large", "m1.medium"]);
  });
});
