// Fair turns across clouds: interleaveBy never lets one cloud-region's items wait behind another's.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { interleaveBy } from "../../../src/core/scaling/turns.ts";

const items = fc.array(fc.record({ cloud: fc.constantFrom("a", "b", "c", "d"), id: fc.nat() }), { maxLength: 60 });

describe("interleaveBy (turns across clouds)", () => {
  it("in every prefix, two clouds' counts differ by at most one unless one has run out (no cloud starves)", () => {
    fc.assert(
      fc.property(items, (list) => {
        const out = interleaveBy(list, (i) => i.cloud);
        const total = new Map<string, number>();
        for (const i of list) total.set(i.cloud, (total.get(i.cloud) ?? 0) + 1);
        const seen = new Map<string, number>();
        for (const i of out) {
          seen.set(i.cloud, (seen.get(i.cloud) ?? 0) + 1);
          for (const [a] of total) for (const [b] of total) {
            const sa = seen.get(a) ?? 0;
            const sb = seen.get(b) ?? 0;
            if (sa < (total.get(a) ?? 0)) expect(sb - sa).toBeLessThanOrEqual(1);
          }
        }
      }),
    );
  });

  it("keeps every item once and each cloud's own order", () => {
    fc.assert(
      fc.property(items, (list) => {
        const out = interleaveBy(list, (i) => i.cloud);
        expect([...out].sort((x, y) => x.id - y.id || x.cloud.localeCompare(y.cloud))).toEqual([...list].sort((x, y) => x.id - y.id || x.cloud.localeCompare(y.cloud)));
        for (const c of ["a", "b", "c", "d"]) expect(out.filter((i) => i.cloud === c)).toEqual(list.filter((i) => i.cloud === c));
      }),
    );
  });
});
