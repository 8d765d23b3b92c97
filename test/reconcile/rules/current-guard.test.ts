// The guard retention prunes with: the tick's joined with the registry's current rules; nothing pruned when either is missing.
import { describe, expect, it } from "vitest";
import { mergeGuards, retentionGuard } from "../../../src/core/snapshots/retention.ts";
import { guardForPruning } from "../../../src/reconcile/rules/current-guard.ts";

const tick = retentionGuard([{ name: "web", image: "base" }], [{ imageId: "img-1" }, { imageId: "img-1" }]);
const current = retentionGuard([{ name: "web", image: "web-nightly" }, { name: "db", image: { id: "img-9" } }], []);

describe("guardForPruning", () => {
  it("holds what either the tick's guard or the registry's current rules name", async () => {
    const guard = await guardForPruning(tick, async () => current);
    expect(guard?.namedByName).toEqual({ base: ["web"], "web-nightly": ["web"] });
    expect(guard?.namedById).toEqual({ "img-9": ["db"] });
    expect(guard?.inUse).toEqual({ "img-1": 2 });
  });

  it("is undefined (nothing is pruned) when the registry cannot answer", async () => {
    expect(await guardForPruning(tick, async () => undefined)).toBeUndefined();
  });

  it("is undefined when the tick had no guard, without asking the registry", async () => {
    let asked = 0;
    expect(await guardForPruning(undefined, async () => (asked++, current))).toBeUndefined();
    expect(asked).toBe(0);
  });
});

describe("mergeGuards", () => {
  it("lists a group once per image, and keeps the larger server count", () => {
    const a = { namedById: { x: ["web"] }, namedByName: {}, inUse: { x: 1, y: 3 } };
    const b = { namedById: { x: ["web", "db"] }, namedByName: { constructor: ["odd"] }, inUse: { x: 2 } };
    const merged = mergeGuards(a, b);
    expect(merged.namedById).toEqual({ x: ["web", "db"] });
    expect(Object.hasOwn(merged.namedByName, "constructor")).toBe(true);
    expect(merged.inUse).toEqual({ x: 2, y: 3 });
  });
});
