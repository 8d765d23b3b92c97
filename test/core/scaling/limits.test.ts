// Safety rails: per-tick caps on boots and deletes, quota headroom from /limits, and the metadata-limit check.
import { describe, expect, it } from "vitest";
import { bootRoom, limitSteps, quotaHeadroom } from "../../../src/core/scaling/limits.ts";
import { checkMetadataFits } from "../../../src/core/model/metadata.ts";
import type { AbsoluteLimits } from "../../../src/openstack/cloud.ts";
import type { Step } from "../../../src/core/model/types.ts";
import { rules } from "../builders.ts";

const boot = (count: number): Step => ({ kind: "boot", group: "web", count, reason: `scale out: boot ${count}` });
const del = (id: string): Step => ({ kind: "delete", group: "web", serverId: id, serverName: `web-${id}`, reason: "scale in" });
/** A group far from its max: only the caps and the quota bind. */
const roomy = { max: 1000, present: 0 };
const generous = { maxBootsPerTick: 100, maxDeletesPerTick: 100, ceiling: roomy };
const bootCount = (steps: Step[]) => steps.reduce((n, s) => n + (s.kind === "boot" ? s.count : 0), 0);
const codes = (r: { notices: Array<{ code: string }> }) => r.notices.map((n) => n.code);

function limits(partial: Partial<AbsoluteLimits>): AbsoluteLimits {
  return {
    maxTotalInstances: 10,
    totalInstancesUsed: 0,
    maxTotalCores: 20,
    totalCoresUsed: 0,
    maxTotalRAMSize: 51_200,
    totalRAMUsed: 0,
    maxServerMeta: 128,
    maxImageMeta: 128,
    ...partial,
  };
}

describe("limitSteps: per-tick caps", () => {
  it("passes a plan within the caps through unchanged, without notices", () => {
    const steps = [del("a"), boot(3)];
    expect(limitSteps(steps, generous)).toEqual({ steps, notices: [] });
  });

  it("cuts boots to maxBootsPerTick and says the rest wait", () => {
    const r = limitSteps([boot(15)], { ...generous, maxBootsPerTick: 10 });
    expect(bootCount(r.steps)).toBe(10);
    expect(r.steps[0]?.reason).toBe("scale out: boot 15; limited to 10 of 15 this tick");
    expect(codes(r)).toEqual(["boot-capped"]);
  });

  it("keeps the first maxDeletesPerTick deletes, in plan order", () => {
    const r = limitSteps([del("a"), del("b"), del("c")], { ...generous, maxDeletesPerTick: 2 });
    expect(r.steps).toEqual([del("a"), del("b")]);
    expect(codes(r)).toEqual(["delete-capped"]);
  });

  it("passes snapshot and image steps through untouched", () => {
    const snapshot: Step = { kind: "snapshot", group: "web", serverId: "s", serverName: "web-s", imageName: "web-snap", firing: "2026-11-26T02:30:00Z", attempt: 1, reason: "nightly" };
    const r = limitSteps([snapshot], { maxBootsPerTick: 1, maxDeletesPerTick: 1, ceiling: roomy });
    expect(r.steps).toEqual([snapshot]);
  });
});

describe("limitSteps: quota", () => {
  it("boots only what fits the instance headroom, and reports capacity-limited", () => {
    const r = limitSteps([boot(5)], { ...generous, quota: { instances: 2, cores: null, ramMB: null } });
    expect(bootCount(r.steps)).toBe(2);
    expect(r.notices).toContainEqual(expect.objectContaining({ code: "capacity-limited", level: "warning" }));
    expect(r.notices.find((n) => n.code === "capacity-limited")?.message).toContain("instances");
  });

  it("turns core headroom into servers of the flavor", () => {
    const r = limitSteps([boot(5)], { ...generous, quota: { instances: null, cores: 7, ramMB: null }, flavor: { vcpus: 2, ramMB: 2048 } });
    expect(bootCount(r.steps)).toBe(3);
  });

  it("turns RAM headroom into servers of the flavor", () => {
    const r = limitSteps([boot(5)], { ...generous, quota: { instances: null, cores: null, ramMB: 4096 }, flavor: { vcpus: 1, ramMB: 2048 } });
    expect(bootCount(r.steps)).toBe(2);
    expect(r.notices.find((n) => n.code === "capacity-limited")?.message).toContain("ram");
  });

  it("drops the boot step entirely when nothing fits", () => {
    const r = limitSteps([boot(3), del("a")], { ...generous, quota: { instances: 0, cores: null, ramMB: null } });
    expect(r.steps).toEqual([del("a")]);
    expect(codes(r)).toContain("capacity-limited");
  });

  it("treats null limits as unlimited", () => {
    const r = limitSteps([boot(50)], { ...generous, quota: { instances: null, cores: null, ramMB: null }, flavor: { vcpus: 64, ramMB: 1 << 20 } });
    expect(bootCount(r.steps)).toBe(50);
  });

  it("applies the per-tick cap before the quota, and reports both", () => {
    const r = limitSteps([boot(20)], { ...generous, maxBootsPerTick: 10, quota: { instances: 4, cores: null, ramMB: null } });
    expect(bootCount(r.steps)).toBe(4);
    expect(codes(r)).toEqual(["boot-capped", "capacity-limited"]);
  });
});

describe("limitSteps: never over max while replacing", () => {
  it("three ERROR servers at max 3 with maxDeletesPerTick 1: one delete and one boot, never five servers", () => {
    const r = limitSteps([del("a"), del("b"), del("c"), boot(3)], { ...generous, maxDeletesPerTick: 1, ceiling: { max: 3, present: 3 } });
    expect(r.steps).toEqual([del("a"), expect.objectContaining({ kind: "boot", count: 1 })]);
    expect(codes(r)).toEqual(["delete-capped", "boot-at-max"]);
  });

  it("a replacement waits while its broken server's delete is not sent (no deletes allowed)", () => {
    const r = limitSteps([boot(1)], { ...generous, ceiling: { max: 2, present: 2 } });
    expect(r.steps).toEqual([]);
    expect(r.notices.find((n) => n.code === "boot-at-max")?.message).toBe(
      "1 boot(s) wait until the broken servers they replace are deleted: never more than max 2 servers at once",
    );
  });

  it("boots below max are not touched", () => {
    const r = limitSteps([del("a"), boot(2)], { ...generous, ceiling: { max: 5, present: 3 } });
    expect(r.steps).toEqual([del("a"), boot(2)]);
    expect(r.notices).toEqual([]);
  });
});

describe("bootRoom", () => {
  it("is max less the servers that stay once the sent deletes are done, never negative", () => {
    expect([bootRoom({ max: 3, present: 3 }, 1), bootRoom({ max: 3, present: 5 }, 1), bootRoom({ max: 3, present: 0 }, 0)]).toEqual([1, 0, 3]);
  });
});

describe("quotaHeadroom", () => {
  it("is what is left under each absolute limit", () => {
    expect(quotaHeadroom(limits({ totalInstancesUsed: 3, totalCoresUsed: 5, totalRAMUsed: 1024 }))).toEqual({ instances: 7, cores: 15, ramMB: 50_176 });
  });

  it("keeps an unlimited (null) limit unlimited", () => {
    expect(quotaHeadroom(limits({ maxTotalInstances: null, maxTotalCores: null, maxTotalRAMSize: null }))).toEqual({ instances: null, cores: null, ramMB: null });
  });

  it("is never negative for a project over its quota", () => {
    expect(quotaHeadroom(limits({ totalInstancesUsed: 12 })).instances).toBe(0);
  });
});

describe("checkMetadataFits", () => {
  it("accepts metadata that fits with novascale's own keys", () => {
    expect(checkMetadataFits(rules({ metadata: { role: "web", team: "a", env: "prod" } }), 5)).toBeUndefined();
  });

  it("rejects one key too many on a cloud that allows 5 (the book's), saying how many to remove", () => {
    const problem = checkMetadataFits(rules({ metadata: { a: "1", b: "2", c: "3", d: "4" } }), 5);
    expect(problem).toBe("metadata: 4 key(s) of the group + 2 of novascale = 6, but this cloud allows 5 per server; remove 1 key(s)");
  });

  it("accepts anything when the cloud reports no limit", () => {
    expect(checkMetadataFits(rules({ metadata: { a: "1", b: "2", c: "3", d: "4" } }), null)).toBeUndefined();
  });
});
