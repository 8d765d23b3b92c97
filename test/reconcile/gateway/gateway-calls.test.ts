// What a group's Durable Object calls back into the gateway: every call crosses RPC into the calling invocation, which pays for it.
import { env, RpcTarget } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { GroupRulesSchema, type GroupRulesInput } from "../../../src/config/group.ts";
import { TickBudget } from "../../../src/reconcile/gateway/budget.ts";
import { coordinatorStub } from "../../../src/reconcile/groups/coordinator.ts";
import { CloudGateway, type CloudPort, type ReserveRequest } from "../../../src/reconcile/gateway/gateway.ts";
import { createGroupService } from "../../../src/reconcile/services/group-service.ts";
import type { BootSpec } from "../../../src/openstack/cloud.ts";
import type { ResourceRef } from "../../../src/config/group.ts";
import { deleteAllGroups } from "../../support/rules.ts";
import { MemoryCloud } from "../memory-cloud.ts";

/**
 * The real gateway behind a port that notes each call the Durable Object makes on it (calls the gateway
 * makes on itself are not calls back from the Durable Object, so they are not noted).
 */
class CountingPort extends RpcTarget {
  readonly called: string[] = [];
  readonly #inner: CloudGateway;

  constructor(inner: CloudGateway) {
    super();
    this.#inner = inner;
  }

  listServers() {
    this.called.push("listServers");
    return this.#inner.listServers();
  }

  reserve(ask: ReserveRequest) {
    this.called.push("reserve");
    return this.#inner.reserve(ask);
  }

  release(id: number) {
    this.called.push("release");
    return this.#inner.release(id);
  }

  resolveImage(ref: ResourceRef) {
    this.called.push("resolveImage");
    return this.#inner.resolveImage(ref);
  }

  resolveFlavor(ref: ResourceRef) {
    this.called.push("resolveFlavor");
    return this.#inner.resolveFlavor(ref);
  }

  absoluteLimits() {
    this.called.push("absoluteLimits");
    return this.#inner.absoluteLimits();
  }

  boot(spec: BootSpec) {
    this.called.push("boot");
    return this.#inner.boot(spec);
  }

  deleteServer(id: string) {
    this.called.push("deleteServer");
    return this.#inner.deleteServer(id);
  }
}

async function reconcileWith(group: string, extra: Partial<GroupRulesInput>, budget: TickBudget | undefined) {
  const cloud = new MemoryCloud();
  // The write's reference check asks a cloud of its own: only the reconcile's calls are counted here.
  const service = createGroupService(env, { cloudFactory: () => new MemoryCloud(), clock: () => new Date("2026-11-26T07:00:00Z") });
  const stored = (await service.putGroup(group, GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", max: 20, ...extra }), { author: "alice" })).group;
  const gateway = new CountingPort(new CloudGateway(cloud, budget));
  // As the tick hands it over: the group's members from the tick's listing (none yet).
  const listing = { members: [], listedAt: Date.now() };
  const record = await coordinatorStub(env, group).reconcile({ group: stored, now: "2026-11-26T09:00:00Z", trigger: "cron", author: "cron", listing }, gateway as unknown as CloudPort);
  return { cloud, gateway, record };
}

afterEach(deleteAllGroups);

describe("a booting group's calls back into the gateway", () => {
  it("with a tick's budget, the reservation carries the image, the flavor and /limits: reserve, boot, release are its only calls", async () => {
    const { cloud, gateway, record } = await reconcileWith("calls-budget", { default: 3 }, new TickBudget({ subrequests: 50 }));
    expect(gateway.called).toEqual(["reserve", "boot", "release"]);
    // The reads still happened, once each, on the cloud side of the gateway.
    expect([cloud.count("resolveImage"), cloud.count("resolveFlavor"), cloud.count("absoluteLimits")]).toEqual([1, 1, 1]);
    expect(cloud.groupServers("calls-budget")).toHaveLength(3);
    expect(record.health).not.toBe("failed");
  });

  it("without a budget (an API request), the reservation carries the reads too", async () => {
    const { cloud, gateway } = await reconcileWith("calls-nobudget", { default: 2 }, undefined);
    expect(gateway.called).toEqual(["reserve", "boot", "release"]);
    expect(cloud.groupServers("calls-nobudget")).toHaveLength(2);
  });

  it("an image that does not resolve: nothing boots, /limits is not read, and the reason is recorded", async () => {
    const { cloud, gateway, record } = await reconcileWith("calls-noimage", { default: 2, image: "missing-image" }, new TickBudget({ subrequests: 50 }));
    expect(gateway.called).toEqual(["reserve", "release"]);
    expect(cloud.count("absoluteLimits")).toBe(0);
    expect(cloud.count("boot")).toBe(0);
    expect(record.notices.map((n) => n.code)).toContain("boot-skipped");
    expect(record.errors.map((e) => e.message).join(" ")).toContain("missing-image");
  });

  it("a budget too small for any boot: no reads are made for boots that will not go out", async () => {
    const { cloud, gateway, record } = await reconcileWith("calls-nobudget-left", { default: 2 }, new TickBudget({ subrequests: 0 }));
    expect(gateway.called).toEqual(["reserve", "release"]);
    expect([cloud.count("resolveImage"), cloud.count("resolveFlavor"), cloud.count("absoluteLimits"), cloud.count("boot")]).toEqual([0, 0, 0, 0]);
    expect(record.deferred?.steps).toBeGreaterThan(0);
  });
});
