// The group's history in its Durable Object: a row when desired or the servers' states change, none on a steady tick, thinned and bounded.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { GroupRulesSchema, type GroupRulesInput } from "../../../src/config/group.ts";
import { HISTORY_KEEP_MS } from "../../../src/core/scaling/history.ts";
import { coordinatorStub } from "../../../src/reconcile/groups/coordinator.ts";
import { createGroupService } from "../../../src/reconcile/services/group-service.ts";
import { runTick } from "../../../src/reconcile/tick/tick.ts";
import { CoordinatorStore } from "../../../src/store/coordinator.ts";
import { deleteAllGroups } from "../../support/rules.ts";
import { MemoryCloud } from "../memory-cloud.ts";

function rules(extra: Partial<GroupRulesInput> = {}) {
  return GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", max: 20, ...extra });
}

function setup() {
  const cloud = new MemoryCloud();
  const service = createGroupService(env, { cloudFactory: () => cloud, clock: () => new Date("2026-11-26T07:00:00Z") });
  const tick = (at: string) => {
    cloud.clock = new Date(at);
    return runTick(env, new Date(at), { cloudFactory: () => cloud });
  };
  return { cloud, service, tick };
}

/** Every stored history row of the group, straight from its Durable Object's SQL table. */
function rows(group: string) {
  return runInDurableObject(coordinatorStub(env, group), (_instance, state) => new CoordinatorStore(state.storage).readHistory());
}

afterEach(deleteAllGroups);

describe("group history", () => {
  it("records a point when desired or the servers' states change: boot, BUILD, ACTIVE", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("hist-up", rules({ default: 2 }), { author: "alice" });
    await tick("2026-11-26T09:00:00Z");
    await tick("2026-11-26T09:01:00Z");
    cloud.settle();
    await tick("2026-11-26T09:02:00Z");
    const points = await service.history("hist-up", new Date("2026-11-26T08:00:00Z"));
    expect(points.map((p) => [new Date(p.at).toISOString(), p.desired, p.actual])).toEqual([
      ["2026-11-26T09:00:00.000Z", 2, {}],
      ["2026-11-26T09:01:00.000Z", 2, { BUILD: 2 }],
      ["2026-11-26T09:02:00.000Z", 2, { ACTIVE: 2 }],
    ]);
  });

  it("a steady tick writes no history row", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("hist-steady", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T09:00:00Z");
    cloud.settle();
    await tick("2026-11-26T09:01:00Z");
    const before = await rows("hist-steady");
    await tick("2026-11-26T09:02:00Z");
    await tick("2026-11-26T09:03:00Z");
    expect(await rows("hist-steady")).toEqual(before);
    expect(before.at(-1)?.at).toBe(Date.parse("2026-11-26T09:01:00Z"));
  });

  it("records a change of desired at the same servers (an override)", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("hist-over", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T09:00:00Z");
    cloud.settle();
    await tick("2026-11-26T09:01:00Z");
    await service.setOverride("hist-over", { desired: 3, until: "2026-11-26T10:00:00Z", reason: "launch", author: "bob" }, new Date("2026-11-26T09:01:30Z"));
    await tick("2026-11-26T09:02:00Z");
    expect((await rows("hist-over")).at(-1)).toEqual({ at: Date.parse("2026-11-26T09:02:00Z"), desired: 3, actual: { ACTIVE: 1 } });
  });

  it("a failed listing records nothing (it says nothing about the servers)", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("hist-fail", rules({ default: 1 }), { author: "alice" });
    const { CloudFault } = await import("../memory-cloud.ts");
    cloud.faults.listServers = new CloudFault("transient", 503, "nova is down");
    await tick("2026-11-26T09:00:00Z");
    expect(await rows("hist-fail")).toEqual([]);
  });

  it("drops rows older than 31 days and thins old ones when a new point is written", async () => {
    const { service, tick } = setup();
    await service.putGroup("hist-bound", rules({ default: 1 }), { author: "alice" });
    const now = Date.parse("2026-11-26T09:00:00Z");
    // 35 days of a point every 10 minutes, alternating desired 2 and 3 (5,040 rows).
    await runInDurableObject(coordinatorStub(env, "hist-bound"), (_instance, state) => {
      const store = new CoordinatorStore(state.storage);
      for (let i = 5_040; i > 0; i -= 1) store.appendHistory({ at: now - i * 10 * 60_000, desired: 2 + (i % 2), actual: {} });
    });
    await tick("2026-11-26T09:00:00Z");
    const kept = await rows("hist-bound");
    expect(kept.every((p) => now - p.at < HISTORY_KEEP_MS)).toBe(true);
    // 6 h at every point (36) + 42 h at one per 5 min (252) + 29 days at one per 30 min (1,392), give or take the edges.
    expect(kept.length).toBeLessThan(36 + 252 + 1_392 + 4);
    expect(kept.length).toBeGreaterThan(36 + 252 + 1_392 - 4);
    expect(kept.at(-1)).toEqual({ at: now, desired: 1, actual: {} });
  });

  it("reads a window from its start on, preceded by the state in force at its start", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("hist-window", rules({ default: 1 }), { author: "alice" });
    await tick("2026-11-26T09:00:00Z");
    cloud.settle();
    await tick("2026-11-26T09:01:00Z");
    const points = await service.history("hist-window", new Date("2026-11-26T09:00:30Z"));
    expect(points.map((p) => p.at)).toEqual([Date.parse("2026-11-26T09:00:00Z"), Date.parse("2026-11-26T09:01:00Z")]);
  });

  it("forgets the history with the group", async () => {
    const { service, tick } = setup();
    await service.putGroup("hist-gone", rules({ default: 0 }), { author: "alice" });
    await tick("2026-11-26T09:00:00Z");
    expect(await rows("hist-gone")).toHaveLength(1);
    await service.deleteGroup("hist-gone", { force: true, author: "alice" });
    expect(await rows("hist-gone")).toEqual([]);
  });
});
