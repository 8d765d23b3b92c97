// Executing a boot step: a boot whose answer is lost notes when its request was sent (the Worker's clock).
import { describe, expect, it } from "vitest";
import { executeBoot } from "../../../src/reconcile/groups/execute-steps.ts";
import type { CloudPort } from "../../../src/reconcile/gateway/gateway.ts";
import type { StoredGroup } from "../../../src/reconcile/shared/service.ts";
import { rules } from "../../core/builders.ts";

const group: StoredGroup = { name: "web", rules: rules(), etag: '"e"', revision: 1 } as StoredGroup;
const plan = { image: { id: "img", name: "cirros" }, flavor: { id: "fl", name: "m1", vcpus: 1, ramMB: 512 }, quota: undefined };
const step = { kind: "boot" as const, group: "web", count: 2, reason: "scale out" };

describe("executeBoot", () => {
  it("stamps a boot whose answer was lost with the Worker's clock when it was sent, not the tick's time", async () => {
    const tickNow = new Date("2026-11-26T12:00:00.000Z");
    let bootCalledAt = Number.NaN;
    const cloud = {
      boot: async () => {
        bootCalledAt = Date.now();
        return { ok: false as const, error: { operation: "boot", category: "transient" as const, message: "504" } };
      },
    } as unknown as CloudPort;
    const before = Date.now();
    const { results } = await executeBoot({ group, now: tickNow, cloud, bootId: "abc1234" }, step, plan);
    expect(results).toHaveLength(1);
    expect(results[0]?.outcome).toBe("unknown");
    const sentAt = Date.parse(results[0]?.sentAt ?? "");
    expect(sentAt).toBeGreaterThanOrEqual(before);
    expect(sentAt).toBeLessThanOrEqual(bootCalledAt);
  });
});
