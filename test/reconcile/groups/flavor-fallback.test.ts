// Flavor fallback through the reconcile shell on the in-memory cloud: a 403 quota on create marks that flavor, one fallback step per tick, a 400 stays a boot block.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { GroupRulesSchema, type GroupRulesInput } from "../../../src/config/group.ts";
import { DEFERRED_KEY } from "../../../src/store/tick-state.ts";
import { deleteAllGroups } from "../../support/rules.ts";
import { CloudFault } from "../memory-cloud.ts";
import { memoryWorld } from "../memory-world.ts";

function elastic(extra: Partial<GroupRulesInput> = {}) {
  return GroupRulesSchema.parse({ image: "cirros", flavor: ["m1.large", "m1.medium", "m1.small"], max: 4, default: 2, ...extra });
}

function setup(now = "2026-11-26T09:00:00Z") {
  const { cloud, service, tick } = memoryWorld(now);
  /** The flavor ids of the boot requests sent so far (the memory cloud resolves m1.x to flv-m1.x). */
  const bootFlavors = () => cloud.bootSpecs.map((b) => b.flavorId);
  return { cloud, service, tick, bootFlavors };
}

afterEach(async () => {
  await deleteAllGroups();
  await env.RULES.delete(DEFERRED_KEY);
});

describe("a boot refused for quota (403)", () => {
  it("marks the flavor it took; each tick steps down at most one flavor", async () => {
    const { cloud, service, tick, bootFlavors } = setup();
    await service.putGroup("fq", elastic(), { author: "alice" });
    cloud.faults.boot = new CloudFault("quota", 403, "Quota exceeded for cores: Requested 8, but already used 0 of 4 cores");
    await tick("2026-11-26T09:00:00Z");
    // A multi-create of 2 halves to 1 on quota, as before: both tries with m1.large, none with another flavor.
    expect(bootFlavors()).toEqual(["flv-m1.large", "flv-m1.large"]);
    await tick("2026-11-26T09:01:00Z");
    expect(bootFlavors().slice(2)).toEqual(["flv-m1.medium", "flv-m1.medium"]);
    await tick("2026-11-26T09:02:00Z");
    expect(bootFlavors().slice(4)).toEqual(["flv-m1.small", "flv-m1.small"]);
    const status = await service.status("fq", new Date("2026-11-26T09:02:00Z"));
    expect(status.flavors?.marks.map((m) => m.flavor)).toEqual(["m1.large", "m1.medium", "m1.small"]);
    expect(status.flavors?.marks[0]?.cause).toMatch(/^hit quota \(Quota exceeded for cores/);
    expect(status.bootBlock).toBeNull();
  });

  it("the fallback that fits is kept while the preferred flavor is marked", async () => {
    const { cloud, service, tick, bootFlavors } = setup();
    await service.putGroup("fq-fit", elastic(), { author: "alice" });
    cloud.faults.boot = new CloudFault("quota", 403, "Quota exceeded for ram");
    await tick("2026-11-26T09:00:00Z");
    cloud.faults.boot = undefined;
    await tick("2026-11-26T09:01:00Z");
    expect(bootFlavors().slice(2)).toEqual(["flv-m1.medium"]);
    expect(cloud.groupServers("fq-fit")).toHaveLength(2);
    const activity = await service.activity("fq-fit", 50);
    expect(activity.filter((a) => a.kind === "flavor-unavailable").map((a) => a.reason)).toEqual([
      "m1.large hit quota (Quota exceeded for ram): new boots skip it until 2026-11-26T09:30:00.000Z (30 min, strike 1)",
    ]);
  });
});

describe("a boot rejected (400)", () => {
  it("stays a config error: booting is blocked, no flavor is marked, no fallback", async () => {
    const { cloud, service, tick, bootFlavors } = setup();
    await service.putGroup("f400", elastic(), { author: "alice" });
    cloud.faults.boot = new CloudFault("config", 400, "Flavor m1.large could not be found.");
    await tick("2026-11-26T09:00:00Z");
    await tick("2026-11-26T09:01:00Z");
    expect(bootFlavors()).toEqual(["flv-m1.large"]);
    const status = await service.status("f400", new Date("2026-11-26T09:01:00Z"));
    expect(status.bootBlock?.reason).toMatch(/could not be found/);
    expect(status.flavors).toMatchObject({ bootsWith: "m1.large", fallback: false, marks: [] });
  });
});
