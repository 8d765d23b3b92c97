// The reconcile shell (tick -> group Durable Object -> pipeline) against an in-memory cloud with scripted faults.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { GroupRulesSchema, type GroupRulesInput } from "../../../src/config/group.ts";
import { BOOT_INTENT_KEY, GROUP_KEY } from "../../../src/core/model/membership.ts";
import { coordinatorStub } from "../../../src/reconcile/groups/coordinator.ts";
import { CloudGateway } from "../../../src/reconcile/gateway/gateway.ts";
import { createGroupService } from "../../../src/reconcile/services/group-service.ts";
import { runTick } from "../../../src/reconcile/tick/tick.ts";
import { deleteAllGroups } from "../../support/rules.ts";
import { DEFERRED_KEY } from "../../../src/store/tick-state.ts";
import { CloudFault, MemoryCloud } from "../memory-cloud.ts";

function rules(extra: Partial<GroupRulesInput> = {}) {
  return GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", max: 20, ...extra });
}

/** Office hours: 3 from 08:00 UTC, 1 from 20:00 UTC. */
const officeHours = {
  default: 1,
  schedules: [
    { cron: "0 8 * * *", timezone: "UTC", desired: 3 },
    { cron: "0 20 * * *", timezone: "UTC", desired: 1 },
  ],
};

function setup() {
  const cloud = new MemoryCloud();
  const service = createGroupService(env, { cloudFactory: () => cloud, clock: () => new Date("2026-11-26T07:00:00Z") });
  const tick = (at: string) => {
    cloud.clock = new Date(at); // servers booted now are created now (a BUILD server is young)
    return runTick(env, new Date(at), { cloudFactory: () => cloud });
  };
  return { cloud, service, tick };
}

// Storage is shared by the tests of this file: each test's groups (and the tick's deferred list) go, so later ticks see only their own.
afterEach(async () => {
  await deleteAllGroups();
  await env.RULES.delete(DEFERRED_KEY);
});

describe("cron tick", () => {
  it("does nothing at all when there are no groups (not even authenticate)", async () => {
    let opened = 0;
    const cloud = new MemoryCloud();
    const summary = await runTick(env, new Date("2026-11-26T09:00:00Z"), {
      cloudFactory: () => {
        opened += 1;
        return cloud;
      },
    });
    expect(summary.groups).toBe(0);
    expect(opened).toBe(0);
    expect(cloud.calls).toEqual([]);
  });

  it("scales up by schedule with one multi-create request carrying the group tag and boot intent", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("up-web", rules({ ...officeHours, namePrefix: "web" }), { author: "alice" });
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.bootSpecs).toHaveLength(1);
    const spec = cloud.bootSpecs[0]!;
    expect(spec.count).toBe(3);
    expect(spec.name).toMatch(/^web-[a-z0-9]+$/);
    expect(spec.metadata[GROUP_KEY]).toBe("up-web");
    expect(spec.metadata[BOOT_INTENT_KEY]).toBeTruthy();
    expect(cloud.groupServers("up-web")).toHaveLength(3);
  });

  it("lists the servers once per tick for all groups", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("once-a", rules({ default: 1 }), { author: "alice" });
    await service.putGroup("once-b", rules({ default: 2 }), { author: "alice" });
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.count("listServers")).toBe(1);
    expect(cloud.groupServers("once-a")).toHaveLength(1);
    expect(cloud.groupServers("once-b")).toHaveLength(2);
  });

  it("resolves each distinct image and flavor once per tick, whatever the number of groups booting", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("res-a", rules({ default: 1 }), { author: "alice" });
    await service.putGroup("res-b", rules({ default: 1 }), { author: "alice" });
    cloud.calls.length = 0; // the writes' reference checks are not the tick's calls
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.count("boot")).toBe(2);
    expect(cloud.count("resolveImage")).toBe(1);
    expect(cloud.count("resolveFlavor")).toBe(1);
  });

  it("reads quota (/limits) only when boots are planned", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("lim-web", rules({ default: 1 }), { author: "alice" });
    cloud.calls.length = 0; // the write's reference check is not the tick's calls
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.count("absoluteLimits")).toBe(1);
    cloud.settle();
    await tick("2026-11-26T09:01:00Z");
    expect(cloud.count("absoluteLimits")).toBe(1);
    expect(cloud.count("resolveImage")).toBe(1);
  });

  it("scales down by schedule, deleting down to the desired count", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("down-web", rules(officeHours), { author: "alice" });
    await tick("2026-11-26T09:00:00Z");
    cloud.settle();
    await tick("2026-11-26T21:00:00Z");
    expect(cloud.count("deleteServer")).toBe(2);
    expect(cloud.groupServers("down-web")).toHaveLength(1);
    const status = await service.status("down-web", new Date("2026-11-26T21:00:00Z"));
    expect(status.lastTick?.steps.filter((s) => s.kind === "delete")).toHaveLength(2);
  });

  it("deletes in parallel, at most 4 at a time", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("par-web", rules({ default: 0 }), { author: "alice" });
    for (let i = 0; i < 9; i++) cloud.addServer({ metadata: { [GROUP_KEY]: "par-web", [BOOT_INTENT_KEY]: "seeded" } });
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.groupServers("par-web")).toHaveLength(0);
    expect(cloud.maxConcurrentDeletes).toBe(4);
  });

  it("an override holds the count until it expires, then the schedule rules again", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("ovr-web", rules(officeHours), { author: "alice" });
    await service.setOverride("ovr-web", { desired: 5, until: "2026-11-26T10:00:00Z", reason: "launch", author: "bob" }, new Date("2026-11-26T08:30:00Z"));
    await tick("2026-11-26T09:00:00Z");
    cloud.settle();
    expect(cloud.groupServers("ovr-web")).toHaveLength(5);
    await tick("2026-11-26T10:01:00Z");
    expect(cloud.groupServers("ovr-web")).toHaveLength(3);
    const kinds = (await service.activity("ovr-web", 50)).map((a) => a.kind);
    expect(kinds).toContain("override-set");
    expect(kinds).toContain("override-expired");
  });

  it("a paused group gets no boots and no deletes", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("paused-web", rules(officeHours), { author: "alice" });
    await service.pause("paused-web", "bob", "maintenance");
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.count("boot")).toBe(0);
    const status = await service.status("paused-web", new Date("2026-11-26T09:00:00Z"));
    expect(status.health).toBe("paused");
    await service.resume("paused-web", "bob");
    await tick("2026-11-26T09:01:00Z");
    expect(cloud.groupServers("paused-web")).toHaveLength(3);
  });

  it("replaces a server in ERROR: deletes it and boots another", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("err-web", rules({ default: 2 }), { author: "alice" });
    const broken = cloud.addServer({ status: "ERROR", metadata: { [GROUP_KEY]: "err-web", [BOOT_INTENT_KEY]: "seeded" } });
    cloud.addServer({ status: "ACTIVE", metadata: { [GROUP_KEY]: "err-web", [BOOT_INTENT_KEY]: "seeded" } });
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.servers.find((s) => s.id === broken.id)).toBeUndefined();
    expect(cloud.groupServers("err-web")).toHaveLength(2);
    expect(cloud.bootSpecs[0]?.count).toBe(1);
  });

  it("replaces a server stuck in BUILD past the build timeout", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("stuck-web", rules({ default: 1, limits: { buildTimeoutMinutes: 30 } }), { author: "alice" });
    const stuck = cloud.addServer({ status: "BUILD", created: "2026-11-26T08:00:00Z", metadata: { [GROUP_KEY]: "stuck-web", [BOOT_INTENT_KEY]: "seeded" } });
    await tick("2026-11-26T08:20:00Z");
    expect(cloud.count("boot")).toBe(0);
    await tick("2026-11-26T08:45:00Z");
    expect(cloud.servers.find((s) => s.id === stuck.id)).toBeUndefined();
    expect(cloud.groupServers("stuck-web")).toHaveLength(1);
  });

  it("never over max while replacing: three ERROR servers at max 3, one delete per tick, at most 3 servers at any time", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("full-web", rules({ default: 3, max: 3, limits: { maxDeletesPerTick: 1 } }), { author: "alice" });
    for (let i = 0; i < 3; i++) cloud.addServer({ status: "ERROR", metadata: { [GROUP_KEY]: "full-web", [BOOT_INTENT_KEY]: "seeded" } });
    const notices: string[][] = [];
    for (const at of ["2026-11-26T09:00:00Z", "2026-11-26T09:01:00Z", "2026-11-26T09:02:00Z"]) {
      await tick(at);
      expect(cloud.groupServers("full-web").length).toBeLessThanOrEqual(3);
      notices.push((await service.status("full-web", new Date(at))).lastTick?.notices.map((n) => n.code) ?? []);
    }
    expect(cloud.groupServers("full-web").map((s) => s.status)).toEqual(["BUILD", "BUILD", "BUILD"]);
    expect(notices[0]).toContain("boot-at-max");
  });

  it("a broken server whose delete Nova refused keeps its place: its replacement waits", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("refused-web", rules({ default: 2, max: 2 }), { author: "alice" });
    cloud.addServer({ status: "ERROR", metadata: { [GROUP_KEY]: "refused-web", [BOOT_INTENT_KEY]: "seeded" } });
    cloud.addServer({ status: "ACTIVE", metadata: { [GROUP_KEY]: "refused-web", [BOOT_INTENT_KEY]: "seeded" } });
    cloud.faults.deleteServer = new CloudFault("transient", 500, "delete failed");
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.count("boot")).toBe(0);
    expect(cloud.groupServers("refused-web")).toHaveLength(2);
    cloud.faults.deleteServer = undefined;
    await tick("2026-11-26T09:01:00Z");
    expect(cloud.groupServers("refused-web").map((s) => s.status).sort()).toEqual(["ACTIVE", "BUILD"]);
  });

  it("does nothing to a group when the server listing failed", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("nolist-web", rules({ default: 0 }), { author: "alice" });
    cloud.addServer({ metadata: { [GROUP_KEY]: "nolist-web", [BOOT_INTENT_KEY]: "seeded" } });
    cloud.faults.listServers = new CloudFault("transient", 503, "nova is down");
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.count("deleteServer")).toBe(0);
    expect(cloud.count("boot")).toBe(0);
    const status = await service.status("nolist-web", new Date("2026-11-26T09:00:00Z"));
    expect(status.lastTick?.listing).toBe("failed");
    expect(status.health).toBe("error");
  });

  it("a 400 on boot stops booting the group until its rules change", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("bad-web", rules({ default: 2 }), { author: "alice" });
    cloud.faults.boot = new CloudFault("config", 400, "Invalid flavorRef provided.");
    await tick("2026-11-26T09:00:00Z");
    await tick("2026-11-26T09:01:00Z");
    expect(cloud.count("boot")).toBe(1);
    const status = await service.status("bad-web", new Date("2026-11-26T09:01:00Z"));
    expect(status.health).toBe("error");
    expect(status.bootBlock?.reason).toContain("Invalid flavorRef");

    cloud.faults.boot = undefined;
    await service.putGroup("bad-web", rules({ default: 2, flavor: "m1.small" }), { author: "alice" });
    await tick("2026-11-26T09:02:00Z");
    expect(cloud.groupServers("bad-web")).toHaveLength(2);
    expect((await service.activity("bad-web", 20)).map((a) => a.kind)).toEqual(expect.arrayContaining(["boot-blocked", "boot-unblocked"]));
  });

  it("boots what fits the quota and reports capacity-limited", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("quota-web", rules({ default: 5 }), { author: "alice" });
    cloud.faults.maxInstances = 3;
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.groupServers("quota-web")).toHaveLength(3);
    const status = await service.status("quota-web", new Date("2026-11-26T09:00:00Z"));
    expect(status.health).toBe("capacity-limited");
  });

  it("reads /limits once per tick however many groups boot, and together they stay within the quota", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("share-a", rules({ default: 2 }), { author: "alice" });
    await service.putGroup("share-b", rules({ default: 2 }), { author: "alice" });
    cloud.faults.maxInstances = 3;
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.count("absoluteLimits")).toBe(1);
    expect(cloud.groupServers("share-a").length + cloud.groupServers("share-b").length).toBe(3);
  });

  it("when Nova refuses a multi-create for quota, boots what fits in smaller requests", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("halve-web", rules({ default: 4 }), { author: "alice" });
    cloud.faults.maxInstances = 3;
    cloud.faults.hideQuota = true;
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.groupServers("halve-web")).toHaveLength(3);
    const status = await service.status("halve-web", new Date("2026-11-26T09:00:00Z"));
    expect(status.health).toBe("capacity-limited");
    expect((await service.activity("halve-web", 10)).map((a) => a.kind)).toContain("capacity-limited");
  });

  it("a boot whose answer was lost is not retried, and the next tick does not boot it again", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("lost-web", rules({ default: 2 }), { author: "alice" });
    cloud.faults.bootLostResponses = 1;
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.count("boot")).toBe(1);
    await tick("2026-11-26T09:01:00Z");
    expect(cloud.count("boot")).toBe(1);
    expect(cloud.groupServers("lost-web")).toHaveLength(2);
    expect((await service.activity("lost-web", 10)).map((a) => a.kind)).toContain("boot-unknown");
  });

  it("reports a lost boot as booted once its servers show up on a listing", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("found-web", rules({ default: 2 }), { author: "alice" });
    cloud.faults.bootLostResponses = 1;
    await tick("2026-11-26T09:00:00Z");
    await tick("2026-11-26T09:01:00Z");
    const found = (await service.activity("found-web", 10)).find((a) => a.kind === "boot" && a.reason.includes("answer was lost"));
    expect(found?.serverIds).toHaveLength(2);
  });

  it("reports a lost boot that created nothing as failed, and boots again", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("vanished-web", rules({ default: 1 }), { author: "alice" });
    cloud.faults.bootLostResponses = 1;
    await tick("2026-11-26T09:00:00Z");
    cloud.servers = cloud.servers.filter((s) => s.metadata["novascale:group"] !== "vanished-web"); // Nova never kept it
    await tick("2026-11-26T09:11:00Z");
    const kinds = (await service.activity("vanished-web", 10)).map((a) => a.kind);
    expect(kinds).toContain("boot-failed");
    expect(cloud.groupServers("vanished-web")).toHaveLength(1);
  });

  it("a gateway call that fails at the RPC layer is recorded like a lost answer, not thrown", async () => {
    const { cloud, service } = setup();
    await service.putGroup("rpc-web", rules({ default: 1 }), { author: "alice" });
    class DroppingGateway extends CloudGateway {
      override boot(): never {
        throw new Error("the calling invocation went away");
      }
    }
    const group = (await service.getGroup("rpc-web"))!;
    const record = await coordinatorStub(env, "rpc-web").reconcile({ group, now: "2026-11-26T09:00:00Z", trigger: "cron", author: "cron" }, new DroppingGateway(cloud));
    expect(record.results).toEqual([expect.objectContaining({ outcome: "unknown" })]);
    expect((await service.activity("rpc-web", 5)).map((a) => a.kind)).toContain("boot-unknown");
  });

  it("two reconciles of one group at the same time boot only once", async () => {
    const { cloud, service } = setup();
    await service.putGroup("race-web", rules({ default: 3 }), { author: "alice" });
    let open!: () => void;
    cloud.bootGate = new Promise((resolve) => (open = resolve));
    const now = new Date("2026-11-26T09:00:00Z");
    cloud.clock = now;
    const first = service.reconcileNow("race-web", "alice", now);
    const second = runTick(env, now, { cloudFactory: () => cloud });
    await new Promise((resolve) => setTimeout(resolve, 50));
    open();
    await Promise.all([first, second]);
    expect(cloud.groupServers("race-web")).toHaveLength(3);
    expect(cloud.count("boot")).toBe(1);
  });

  it("never touches servers without the group tag", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("own-web", rules({ default: 0 }), { author: "alice" });
    const stranger = cloud.addServer({ name: "own-web-lookalike", metadata: {} });
    const other = cloud.addServer({ metadata: { [GROUP_KEY]: "someone-else", [BOOT_INTENT_KEY]: "seeded" } });
    cloud.addServer({ metadata: { [GROUP_KEY]: "own-web", [BOOT_INTENT_KEY]: "seeded" } });
    await tick("2026-11-26T09:00:00Z");
    expect(cloud.servers.map((s) => s.id).sort()).toEqual([stranger.id, other.id].sort());
  });

  it("a steady tick writes nothing to KV and leaves the last tick record as it was", async () => {
    const { cloud, service } = setup();
    await service.putGroup("steady-web", rules({ default: 1 }), { author: "alice" });
    cloud.addServer({ metadata: { [GROUP_KEY]: "steady-web", [BOOT_INTENT_KEY]: "seeded" } });
    let writes = 0;
    const counted: KVNamespace = new Proxy(env.RULES, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop === "put" || prop === "delete") writes += 1;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const countingEnv = { ...env, RULES: counted };
    await runTick(countingEnv, new Date("2026-11-26T09:00:00Z"), { cloudFactory: () => cloud });
    await runTick(countingEnv, new Date("2026-11-26T09:01:00Z"), { cloudFactory: () => cloud });
    expect(writes).toBe(0);
    const status = await service.status("steady-web", new Date("2026-11-26T09:01:00Z"));
    expect(status.health).toBe("steady");
    expect(status.lastTick?.at).toBe("2026-11-26T09:00:00.000Z");
    expect(status.lastTick?.lastSeenAt).toBe("2026-11-26T09:01:00.000Z");
    // Durable Object storage still holds the first tick's record, untouched by the steady one.
    const stored = await runInDurableObject(coordinatorStub(env, "steady-web"), (_instance, state) => state.storage.get<{ at: string; lastSeenAt?: string }>("lastTick"));
    expect(stored).toMatchObject({ at: "2026-11-26T09:00:00.000Z" });
    expect(stored?.lastSeenAt).toBeUndefined();
  });

  it("converges once a failing cloud recovers", async () => {
    const { cloud, service, tick } = setup();
    await service.putGroup("heal-web", rules({ default: 3 }), { author: "alice" });
    cloud.faults.listServers = new CloudFault("transient", 503, "nova is down");
    await tick("2026-11-26T09:00:00Z");
    cloud.faults.listServers = undefined;
    cloud.faults.bootLostResponses = 1;
    await tick("2026-11-26T09:01:00Z");
    cloud.settle();
    await tick("2026-11-26T09:02:00Z");
    await tick("2026-11-26T09:03:00Z");
    expect(cloud.groupServers("heal-web")).toHaveLength(3);
    const status = await service.status("heal-web", new Date("2026-11-26T09:03:00Z"));
    expect(status.health).toBe("steady");
  });
});
