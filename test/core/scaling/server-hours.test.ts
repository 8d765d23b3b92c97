// server-hours: the recorded step function integrated over a span; run counts running states only; saved is against max all the time.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { serverHours } from "../../../src/core/scaling/server-hours.ts";
import type { HistoryPoint } from "../../../src/core/scaling/history.ts";

const HOUR = 3_600_000;
const NOW = Date.parse("2026-11-30T12:00:00Z");
const p = (hoursAgo: number, desired: number, actual: Record<string, number>): HistoryPoint => ({ at: NOW - hoursAgo * HOUR, desired, actual });

describe("serverHours", () => {
  it("integrates each reading until the next one, the last until `to`", () => {
    const points = [p(10, 2, { ACTIVE: 2 }), p(4, 5, { ACTIVE: 5 })];
    // 6 h at 2 + 4 h at 5 = 32 server-hours.
    expect(serverHours(points, NOW - 10 * HOUR, NOW, 5)).toEqual({ coveredHours: 10, run: 32, saved: 50 - 32, desired: 32 });
  });

  it("cuts a reading that started before `from` at `from`", () => {
    const points = [p(100, 3, { ACTIVE: 3 })];
    expect(serverHours(points, NOW - 24 * HOUR, NOW, 3)).toMatchObject({ coveredHours: 24, run: 72, saved: 0 });
  });

  it("does not count time before the first reading: coveredHours says how much the history covers", () => {
    const points = [p(2, 1, { ACTIVE: 1 })];
    expect(serverHours(points, NOW - 7 * 24 * HOUR, NOW, 4)).toEqual({ coveredHours: 2, run: 2, saved: 6, desired: 2 });
  });

  it("counts BUILD, ERROR and unknown states as run, but not SHUTOFF or shelved servers", () => {
    const points = [p(1, 4, { ACTIVE: 1, BUILD: 1, ERROR: 1, SHUTOFF: 2, SHELVED_OFFLOADED: 3, WEIRD: 1 })];
    expect(serverHours(points, NOW - HOUR, NOW, 10).run).toBe(4);
  });

  it("is zero over an empty history", () => {
    expect(serverHours([], NOW - HOUR, NOW, 10)).toEqual({ coveredHours: 0, run: 0, saved: 0, desired: 0 });
  });

  it("never reports more run than max allowed nor negative savings, and run + saved = max x covered (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ ago: fc.integer({ min: 0, max: 40 * 24 }), active: fc.integer({ min: 0, max: 8 }) }), { maxLength: 50 }),
        fc.integer({ min: 8, max: 20 }),
        (raw, max) => {
          const points = [...raw].sort((a, b) => b.ago - a.ago).map((r) => p(r.ago, r.active, { ACTIVE: r.active }));
          const h = serverHours(points, NOW - 30 * 24 * HOUR, NOW, max);
          expect(h.saved).toBeGreaterThanOrEqual(0);
          expect(h.run).toBeLessThanOrEqual(max * h.coveredHours + 0.1);
          expect(Math.abs(h.run + h.saved - max * h.coveredHours)).toBeLessThan(0.3);
        },
      ),
    );
  });
});
