// Safe under faults, end to end (scheduled() and "apply now" -> real client -> fake cloud): lost boots on a slow cloud, clock skew, busy victims.
import { afterEach, describe, expect, it } from "vitest";
import type { OpenStackSettings } from "../../src/config/env.ts";
import { IMAGE_SOURCE_SERVER_KEY } from "../../src/core/model/membership.ts";
import { createComputeCloud } from "../../src/openstack/index.ts";
import { TickBudget } from "../../src/reconcile/gateway/budget.ts";
import type { CloudFactory } from "../../src/reconcile/gateway/cloud-factory.ts";
import { runTick } from "../../src/reconcile/tick/tick.ts";
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

/**
 * A cron tick at `at` whose boots go out `lateBy` ms into it: once the listing is back, the tick's budget
 * clock (and the fake cloud's clock) stand `lateBy` ms past `at`, as after a slow listing or a long queue.
 */
async function tickLate(w: Awaited<ReturnType<typeof world>>, at: string, lateBy = 0): Promise<void> {
  await w.cloud.setTime(at);
  let shift = 0;
  const clock = () => Date.now() + shift;
  const factory: CloudFactory = (settings: OpenStackSettings, _env, budget) =>
    new Proxy(createComputeCloud(settings, budget ? { budget } : {}), {
      get(target, key, receiver) {
        if (key !== "listServers") return Reflect.get(target, key, receiver);
        return async () => {
          const listed = await target.listServers();
          shift = lateBy;
          if (lateBy > 0) await w.cloud.setTime(new Date(Date.parse(at) + lateBy).toISOString());
          return listed;
        };
      },
    });
  await runTick(w.workerEnv, new Date(at), { cloudFactory: factory, budget: new TickBudget({ subrequests: 50, deadline: clock() + 45_000, clock }) });
}

describe("a lost boot sent late in its tick (40 s in) on a slow cloud: the hold counts from the send", () => {
  it("no double boot, no false boot-failed, no delete: the servers listed after tick + 2 min are counted", async () => {
    const w = await world();
    // Sent at 08:00:40 on the tick's clock, its servers are listed only 100 s later (08:02:20): after the tick at 08:02.
    await w.cloud.addFault({ kind: "lateRegistration", delayMs: 100_000, times: 1 });
    await w.service.putGroup("late-send", rules({ default: 2 }), { author: "alice" });
    await tickLate(w, "2026-11-26T08:00:00.000Z", 40_000);
    for (const at of ["2026-11-26T08:01:00.000Z", "2026-11-26T08:02:00.000Z", "2026-11-26T08:03:00.000Z", "2026-11-26T08:04:00.000Z"]) await tickLate(w, at);
    expect(await bootRequests(w.cloud)).toBe(1);
    const kinds = (await w.service.activity("late-send", 50)).map((a) => a.kind);
    expect(kinds).not.toContain("boot-failed");
    expect(kinds).not.toContain("delete");
    expect(await w.members("late-send")).toHaveLength(2);
  });

  it("the tick record dates the lost boot's send on the tick's clock (the tick's time + 40 s)", async () => {
    const w = await world();
    await w.cloud.addFault({ kind: "bootError", status: 504, times: 1 });
    await w.service.putGroup("late-note", rules({ default: 1 }), { author: "alice" });
    await tickLate(w, "2026-11-26T08:00:00.000Z", 40_000);
    const record = (await w.service.status("late-note", new Date("2026-11-26T08:00:00.000Z"))).lastTick;
    expect(record?.results.find((r) => r.outcome === "unknown")?.sentAt).toBe("2026-11-26T08:00:40.000Z");
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
