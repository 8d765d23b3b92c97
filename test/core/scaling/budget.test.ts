// The budget's pure decisions: what one group is granted, which steps fit (whose turn it is: turns.test.ts).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { askFor, fitSteps, grantRequests } from "../../../src/core/scaling/budget.ts";
import type { Step } from "../../../src/core/model/types.ts";

const boot = (count: number): Step => ({ kind: "boot", group: "web", count, reason: "scale out" });
const del = (id: string): Step => ({ kind: "delete", group: "web", serverId: id, serverName: id, reason: "scale in" });

describe("grantRequests", () => {
  it("grants everything when the budget has room", () => {
    expect(grantRequests(50, { deletes: 2, boots: 1, reads: 3 })).toEqual({ deletes: 2, boots: 1, cost: 6 });
  });

  it("grants deletes before boots", () => {
    expect(grantRequests(2, { deletes: 2, boots: 1, reads: 0 })).toEqual({ deletes: 2, boots: 0, cost: 2 });
  });

  it("grants no boot when its reads fit but no boot request does (reads alone would start nothing)", () => {
    expect(grantRequests(3, { deletes: 0, boots: 1, reads: 3 })).toEqual({ deletes: 0, boots: 0, cost: 0 });
    expect(grantRequests(4, { deletes: 0, boots: 1, reads: 3 })).toEqual({ deletes: 0, boots: 1, cost: 4 });
  });

  it("grants nothing from an empty or negative budget", () => {
    expect(grantRequests(0, { deletes: 3, boots: 1, reads: 0 })).toEqual({ deletes: 0, boots: 0, cost: 0 });
    expect(grantRequests(-5, { deletes: 3, boots: 1, reads: 0 })).toEqual({ deletes: 0, boots: 0, cost: 0 });
  });

  it("never costs more than is available nor grants more than was asked (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 60 }), fc.nat(20), fc.nat(5), fc.nat(3), (available, deletes, boots, reads) => {
        const g = grantRequests(available, { deletes, boots, reads });
        expect(g.cost).toBeLessThanOrEqual(Math.max(0, available));
        expect(g.deletes).toBeLessThanOrEqual(deletes);
        expect(g.boots).toBeLessThanOrEqual(boots);
        expect(g.cost).toBe(g.deletes + g.boots + (g.boots > 0 ? reads : 0));
      }),
    );
  });
});

describe("askFor and fitSteps", () => {
  it("asks one request per delete and per boot step, and the reads only when booting", () => {
    expect(askFor([del("a"), del("b"), boot(3)], 3)).toEqual({ deletes: 2, boots: 1, reads: 3 });
    expect(askFor([del("a")], 3)).toEqual({ deletes: 1, boots: 0, reads: 0 });
  });

  it("keeps the first granted deletes and boots in plan order and defers the rest", () => {
    const steps = [del("a"), del("b"), del("c"), boot(2)];
    const { kept, deferred } = fitSteps(steps, { deletes: 2, boots: 0 });
    expect(kept).toEqual([del("a"), del("b")]);
    expect(deferred).toEqual([del("c"), boot(2)]);
  });

  it("never drops a step: kept and deferred together are the plan (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.nat(5).map(boot), fc.string().map(del))), fc.nat(10), fc.nat(3), (steps, deletes, boots) => {
        const { kept, deferred } = fitSteps(steps, { deletes, boots });
        expect(kept.length + deferred.length).toBe(steps.length);
        expect(kept.filter((s) => s.kind === "delete").length).toBeLessThanOrEqual(deletes);
        expect(kept.filter((s) => s.kind === "boot").length).toBeLessThanOrEqual(boots);
      }),
    );
  });
});
