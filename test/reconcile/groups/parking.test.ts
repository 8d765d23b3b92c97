// Parking through the reconcile shell (tick -> group Durable Object -> pipeline -> executor) against the in-memory cloud.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { GroupRulesSchema, type GroupRulesInput } from "../../../src/config/group.ts";
import { GROUP_KEY, PARK_KEY } from "../../../src/core/model/membership.ts";
import { DEFERRED_KEY } from "../../../src/store/tick-state.ts";
import { deleteAllGroups } from "../../support/rules.ts";
import { CloudFault } from "../memory-cloud.ts";
import { memoryWorld } from "../memory-world.ts";

/** 2 by day (08:00 UTC), 0 at night (20:00 UTC). */
const dayAndNight = {
  default: 2,
  schedules: [
    { cron: "0 8 * * *", timezone: "UTC", desired: 2 },
    { cron: "0 20 * * *", timezone: "UTC", desired: 0 },
  ],
};

function elastic(extra: Partial<GroupRulesInput> = {}) {
  return GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", max: 4, ...dayAndNight, scaleIn: { action: "shelve" }, ...extra });
}

function setup(now = "2026-11-26T09:00:00Z") {
  return memoryWorld(now);
}

afterEach(async () => {
  await deleteAllGroups();
  await env.RULES.delete(DEFERRED_KEY);
});

describe("parking through the reconcile shell", () => {
  it("shelves at night and unshelves the same servers in the morning, booting nothing", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("park-web", elastic(), { author: "alice" });
    await tick("2026-11-26T09:00:00Z");
    cloud.settle();
    const ids = cloud.groupServers("park-web").map((s) => s.id).sort();
    expect(ids).toHaveLength(2);

    await tick("2026-11-26T20:01:00Z");
    expect(cloud.groupServers("park-web").map((s) => s.status)).toEqual(["SHELVED_OFFLOADED", "SHELVED_OFFLOADED"]);
    expect(cloud.groupServers("park-web").every((s) => s.metadata[PARK_KEY] === "parked 2026-11-26T20:01:00.000Z")).toBe(true);
    await tick("2026-11-26T23:00:00Z");
    const night = await service.status("park-web", new Date("2026-11-26T23:00:00Z"));
    expect(night.parking?.parked.map((p) => p.id).sort()).toEqual(ids);
    expect(night.lastTick?.counted).toBe(0);
    expect(night.lastTick?.parked).toBe(2);

    await tick("2026-11-27T08:01:00Z");
    expect(cloud.groupServers("park-web").map((s) => s.id).sort()).toEqual(ids);
    expect(cloud.groupServers("park-web").map((s) => s.status)).toEqual(["ACTIVE", "ACTIVE"]);
    expect(cloud.count("boot")).toBe(1);
    await tick("2026-11-27T08:02:00Z");
    // Back in service: the park marks are removed (Nova refuses metadata changes while shelved).
    expect(cloud.groupServers("park-web").map((s) => s.metadata[PARK_KEY])).toEqual([undefined, undefined]);
    await tick("2026-11-27T08:03:00Z");
    const morning = await service.status("park-web", new Date("2026-11-27T08:03:00Z"));
    expect(morning.parking?.parked).toEqual([]);
    expect(morning.parking?.serverHoursParked.last7Days).toBeCloseTo(2 * (12 + 1 / 60), 1);
    expect(morning.lastTick?.steps).toEqual([]);
    const kinds = (await service.activity("park-web", 50)).map((a) => a.kind);
    expect(kinds.filter((k) => k === "park")).toHaveLength(2);
    expect(kinds.filter((k) => k === "unpark")).toHaveLength(2);
  });

  it("writes the park mark before the shelve, so a parked server is never taken for someone else's", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("mark-web", elastic({ default: 1, schedules: [] }), { author: "alice" });
    cloud.addServer({ metadata: { [GROUP_KEY]: "mark-web" } });
    cloud.addServer({ metadata: { [GROUP_KEY]: "mark-web" } });
    cloud.calls = [];
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.calls.filter((c) => c === "mergeServerMetadata" || c === "shelve")).toEqual(["mergeServerMetadata", "shelve"]);
  });

  it("takes the mark back when Nova refuses the park, and says so in the activity log", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("refused-web", elastic({ default: 0, schedules: [] }), { author: "alice" });
    const s = cloud.addServer({ metadata: { [GROUP_KEY]: "refused-web" } });
    cloud.faults.serverAction = new CloudFault("cloud", 409, "Cannot 'shelve' instance while it is in task_state reboot_started");
    await tick("2026-11-26T09:00:00Z");
    expect(s.metadata[PARK_KEY]).toBeUndefined();
    expect(s.status).toBe("ACTIVE");
    expect((await service.activity("refused-web", 10)).map((a) => a.kind)).toContain("park-failed");
  });

  it("keeps the mark when the park's answer is lost (the next listing tells)", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("lost-web", elastic({ default: 0, schedules: [] }), { author: "alice" });
    const s = cloud.addServer({ metadata: { [GROUP_KEY]: "lost-web" } });
    cloud.faults.serverAction = new CloudFault("transient", 0, "connection reset");
    const record = (await tick("2026-11-26T09:00:00Z")).groups;
    expect(record).toBe(1);
    expect(s.metadata[PARK_KEY]).toMatch(/^parked /);
    const status = await service.status("lost-web", new Date("2026-11-26T09:00:00Z"));
    expect(status.lastTick?.results.map((r) => r.outcome)).toEqual(["unknown"]);
  });

  it("a stop answered by a 500 is retried next tick, not taken for a start by hand (manualChanges respect)", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("failed-stop", elastic({ default: 0, schedules: [], scaleIn: { action: "stop" }, manualChanges: "respect" }), { author: "alice" });
    const s = cloud.addServer({ metadata: { [GROUP_KEY]: "failed-stop" } });
    cloud.faults.serverAction = new CloudFault("cloud", 500, "Unexpected API Error");
    await tick("2026-11-26T09:00:00Z");
    expect(s.status).toBe("ACTIVE");
    delete cloud.faults.serverAction;
    await tick("2026-11-26T09:01:00Z");
    expect(s.status).toBe("SHUTOFF");
    expect(s.metadata[PARK_KEY]).toMatch(/^parked /);
  });

  it("unshelves only what fits the cores quota, and reports capacity-limited instead of booting", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("quota-web", elastic({ default: 2, schedules: [] }), { author: "alice" });
    for (let i = 0; i < 2; i++) cloud.addServer({ status: "SHELVED_OFFLOADED", metadata: { [GROUP_KEY]: "quota-web", [PARK_KEY]: "parked 2026-11-25T20:00:00.000Z" } });
    cloud.faults.maxCores = 1;
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.count("unshelve")).toBe(1);
    expect(cloud.count("boot")).toBe(0);
    const status = await service.status("quota-web", new Date("2026-11-26T09:00:00Z"));
    expect(status.lastTick?.notices.map((n) => n.code)).toContain("capacity-limited");
  });

  it("a power group stops and starts the tagged servers and never boots or deletes", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("dev", GroupRulesSchema.parse({ mode: "power", max: 3, ...dayAndNight }), { author: "alice" });
    cloud.addServer({ metadata: { [GROUP_KEY]: "dev" } });
    cloud.addServer({ metadata: { [GROUP_KEY]: "dev" } });
    cloud.addServer({ status: "ERROR", metadata: { [GROUP_KEY]: "dev" } });
    await tick("2026-11-26T20:01:00Z");
    await tick("2026-11-27T08:01:00Z");
    await tick("2026-11-27T08:02:00Z");
    expect(cloud.calls.filter((c) => ["boot", "deleteServer"].includes(c))).toEqual([]);
    expect(cloud.count("stop")).toBe(2);
    expect(cloud.count("start")).toBe(2);
    expect(cloud.groupServers("dev")).toHaveLength(3);
    const status = await service.status("dev", new Date("2026-11-27T08:02:00Z"));
    expect(status.lastTick?.notices.map((n) => n.code)).toContain("member-broken");
  });
});
