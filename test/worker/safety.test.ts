// Safe under faults, end to end (scheduled() and "apply now" -> real client -> fake cloud): lost boots on a slow cloud, clock skew, busy victims.
import { afterEach, describe, expect, it } from "vitest";
import { IMAGE_SOURCE_SERVER_KEY } from "../../src/core/model/membership.ts";
import { bootRequests, forgetGroups, rules, world } from "./world.ts";

afterEach(forgetGroups);

const noticeCodes = (record: { notices: Array<{ code: string }> } | null | undefined) => record?.notices.map((n) => n.code) ?? [];

describe("a lost boot on a slow cloud (the answer is a 504, the servers register a little later)", () => {
  it("'apply now' right after it boots nothing, and says boots are held", async () => {
    const { cloud, service, tick, members } = await world();
    await cloud.addFault({ kind: "lateRegistration", delayMs: 5_000, times: 1 });
    await service.putGroup("late-now", rules({ default: 2 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    const record = await service.reconcileNow("late-now", "bob", new Date("2026-11-26T08:00:01Z"));
    expect(await bootRequests(cloud)).toBe(1);
    expect(noticeCodes(record)).toContain("boot-held");
    await tick("2026-11-26T08:01:00Z");
    expect(await bootRequests(cloud)).toBe(1);
    expect(await members("late-now")).toHaveLength(2);
    const found = (await service.activity("late-now", 20)).find((a) => a.kind === "boot" && a.reason.includes("answer was lost"));
    expect(found?.serverIds).toHaveLength(2);
  });

  it("the next tick boots nothing while the servers are not listed yet; once listed they are counted", async () => {
    const { cloud, service, tick, members } = await world();
    await cloud.addFault({ kind: "lateRegistration", delayMs: 70_000, times: 1 });
    await service.putGroup("late-tick", rules({ default: 2 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await tick("2026-11-26T08:01:00Z"); // not listed yet
    const held = await service.status("late-tick", new Date("2026-11-26T08:01:00Z"));
    expect(noticeCodes(held.lastTick)).toContain("boot-held");
    await tick("2026-11-26T08:02:00Z");
    await tick("2026-11-26T08:03:00Z");
    expect(await bootRequests(cloud)).toBe(1);
    expect(await members("late-tick")).toHaveLength(2);
  });

  it("a lost boot that created nothing holds boots two minutes, is recorded boot-failed, then boots resume", async () => {
    const { cloud, service, tick, members } = await world();
    await cloud.addFault({ kind: "bootError", status: 504, times: 1 });
    await service.putGroup("late-none", rules({ default: 2 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await tick("2026-11-26T08:01:00Z");
    expect(await bootRequests(cloud)).toBe(1);
    await tick("2026-11-26T08:02:00Z");
    expect(await bootRequests(cloud)).toBe(2);
    expect(await members("late-none")).toHaveLength(2);
    expect((await service.activity("late-none", 20)).map((a) => a.kind)).toContain("boot-failed");
  });
});

describe("clock skew", () => {
  it("Nova's clock 35 min behind, buildTimeoutMinutes 30: fresh BUILD servers are left to build, no delete/boot loop", async () => {
    const { cloud, service, tick, members } = await world({ buildMs: 4 * 60_000 }, { cloudLagMs: 35 * 60_000 });
    await service.putGroup("skew", rules({ default: 2, limits: { buildTimeoutMinutes: 30 } }), { author: "alice" });
    for (const at of ["2026-11-26T08:00:00Z", "2026-11-26T08:01:00Z", "2026-11-26T08:02:00Z", "2026-11-26T08:05:00Z"]) await tick(at);
    expect(await bootRequests(cloud)).toBe(1);
    expect((await service.activity("skew", 20)).filter((a) => a.kind === "delete")).toEqual([]);
    expect((await members("skew")).map((s) => s.status)).toEqual(["ACTIVE", "ACTIVE"]);
  });

  it("reports the skew it measures while servers build", async () => {
    const { service, tick } = await world({ buildMs: 4 * 60_000 }, { cloudLagMs: 35 * 60_000 });
    await service.putGroup("skew-note", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00Z");
    await tick("2026-11-26T08:01:00Z");
    const status = await service.status("skew-note", new Date("2026-11-26T08:01:00Z"));
    expect(status.lastTick?.notices.find((n) => n.code === "clock-skew")?.message).toContain("about 35 min behind");
  });
});

describe("busy victims", () => {
  it("scale-in does not pick the server whose snapshot is uploading, though it is the oldest", async () => {
    const { cloud, service, tick, members } = await world({ buildMs: 5_000, snapshotMs: 20 * 60_000 });
    const policy = { cron: "30 2 * * *", timezone: "UTC", keep: 3 };
    await service.putGroup("busy", rules({ default: 1, snapshots: policy }), { author: "alice" });
    await tick("2026-11-27T01:00:00Z");
    await service.putGroup("busy", rules({ default: 2, snapshots: policy }), { author: "alice" });
    await tick("2026-11-27T01:10:00Z");
    await tick("2026-11-27T02:31:00Z"); // the snapshot of the oldest starts
    const [image] = (await cloud.images()).filter((i) => i.properties[IMAGE_SOURCE_SERVER_KEY] !== undefined);
    const source = image?.properties[IMAGE_SOURCE_SERVER_KEY];
    expect(source).toBeDefined();
    await service.putGroup("busy", rules({ default: 1, snapshots: policy }), { author: "alice" });
    await tick("2026-11-27T02:35:00Z");
    expect((await members("busy")).map((s) => s.id)).toEqual([source]);
  });
});
