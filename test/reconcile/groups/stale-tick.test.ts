// A request older than the newest one a group already reconciled at (a delayed cron tick) is refused as stale.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { GroupRulesSchema } from "../../../src/config/group.ts";
import { createGroupService } from "../../../src/reconcile/services/group-service.ts";
import { runTick } from "../../../src/reconcile/tick/tick.ts";
import { deleteAllGroups } from "../../support/rules.ts";
import { MemoryCloud } from "../memory-cloud.ts";

/** 2 servers from 11:58 and from 12:00, 1 from 12:01 (UTC, every day). */
const rules = GroupRulesSchema.parse({
  image: "cirros",
  flavor: "m1.tiny",
  max: 5,
  default: 2,
  schedules: [
    { cron: "58 11 * * *", timezone: "UTC", desired: 2 },
    { cron: "0 12 * * *", timezone: "UTC", desired: 2 },
    { cron: "1 12 * * *", timezone: "UTC", desired: 1 },
  ],
});

function setup(clock = "2026-11-26T12:01:30Z") {
  const cloud = new MemoryCloud();
  const service = createGroupService(env, { cloudFactory: () => cloud, clock: () => new Date(clock) });
  const tick = async (at: string) => {
    cloud.clock = new Date(at);
    const summary = await runTick(env, new Date(at), { cloudFactory: () => cloud });
    return summary.records[0]?.record;
  };
  return { cloud, service, tick };
}

/** Two running servers, then the 12:01 tick scales in to one. */
async function scaledIn(name: string, clock?: string) {
  const world = setup(clock);
  await world.service.putGroup(name, rules, { author: "alice" });
  await world.tick("2026-11-26T11:59:00Z");
  world.cloud.settle();
  expect(world.cloud.groupServers(name)).toHaveLength(2);
  await world.tick("2026-11-26T12:01:00Z");
  expect(world.cloud.groupServers(name)).toHaveLength(1);
  return world;
}

afterEach(deleteAllGroups);

describe("stale requests", () => {
  it("a tick at 12:00 reaching the group after the 12:01 tick scaled in boots nothing", async () => {
    const { cloud, tick } = await scaledIn("stale-web");
    const boots = cloud.count("boot");
    await tick("2026-11-26T12:00:00Z");
    expect(cloud.count("boot")).toBe(boots);
    expect(cloud.groupServers("stale-web")).toHaveLength(1);
  });

  it("the stale tick's record says stale-tick, names the newer time and has no steps", async () => {
    const { tick } = await scaledIn("stale-rec");
    const record = await tick("2026-11-26T12:00:00Z");
    expect(record?.notices.map((n) => n.code)).toEqual(["stale-tick"]);
    expect(record?.stale).toEqual({ appliedNow: "2026-11-26T12:01:00.000Z" });
    expect(record?.steps).toEqual([]);
  });

  it("a stale tick writes nothing: the last tick and the activity log stay as they were", async () => {
    const { service, tick } = await scaledIn("stale-quiet");
    const before = await service.status("stale-quiet", new Date("2026-11-26T12:01:00Z"));
    const log = await service.activity("stale-quiet", 50);
    await tick("2026-11-26T12:00:00Z");
    expect((await service.status("stale-quiet", new Date("2026-11-26T12:01:00Z"))).lastTick).toEqual(before.lastTick);
    expect(await service.activity("stale-quiet", 50)).toEqual(log);
  });

  it("a tick at the same time as the last applied one (a retry) is not stale and runs", async () => {
    const { tick } = await scaledIn("stale-same");
    const record = await tick("2026-11-26T12:01:00Z");
    expect(record?.stale).toBeUndefined();
    expect(record?.notices.map((n) => n.code)).not.toContain("stale-tick");
  });

  it("after a refused stale tick, a newer tick reconciles again", async () => {
    const { cloud, tick } = await scaledIn("stale-next");
    await tick("2026-11-26T12:00:00Z");
    cloud.servers = cloud.servers.filter((s) => !cloud.groupServers("stale-next").some((m) => m.id === s.id)); // the last one vanishes
    await tick("2026-11-26T12:02:00Z");
    expect(cloud.groupServers("stale-next")).toHaveLength(1);
  });

  it("a cron tick delayed behind an apply-now (the wall clock, later than the tick's scheduled time) is refused", async () => {
    const { cloud, service, tick } = await scaledIn("stale-now", "2026-11-26T12:01:30Z");
    await service.reconcileNow("stale-now", "bob", new Date("2026-11-26T12:01:30Z"));
    const boots = cloud.count("boot");
    const record = await tick("2026-11-26T12:01:10Z");
    expect(record?.stale).toEqual({ appliedNow: "2026-11-26T12:01:30.000Z" });
    expect(cloud.count("boot")).toBe(boots);
  });
});
