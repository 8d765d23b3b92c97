// history: a reading is stored only when it changes something; the rows stay bounded (31 days, thinned, capped).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  HISTORY_KEEP_MS,
  HISTORY_MAX_POINTS,
  HISTORY_THIN_EVERY_MS,
  nextHistoryPoint,
  sameReading,
  thinHistory,
  thinningDue,
  type HistoryPoint,
} from "../../../src/core/scaling/history.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.parse("2026-11-30T12:00:00Z");
const point = (at: number, desired: number, active = desired, build = 0): HistoryPoint => ({
  at,
  desired,
  actual: build > 0 ? { ACTIVE: active, BUILD: build } : { ACTIVE: active },
});

describe("nextHistoryPoint", () => {
  it("stores the first reading", () => {
    expect(nextHistoryPoint(undefined, point(NOW, 2))).toEqual(point(NOW, 2));
  });

  it("stores nothing for a steady reading (same desired, same servers by state)", () => {
    expect(nextHistoryPoint(point(NOW - MIN, 2), point(NOW, 2))).toBeUndefined();
  });

  it("treats zero counts and key order as the same state", () => {
    const last: HistoryPoint = { at: NOW - MIN, desired: 3, actual: { BUILD: 1, ACTIVE: 2 } };
    expect(nextHistoryPoint(last, { at: NOW, desired: 3, actual: { ACTIVE: 2, ERROR: 0, BUILD: 1 } })).toBeUndefined();
  });

  it("stores a change of desired", () => {
    expect(nextHistoryPoint(point(NOW - MIN, 2), point(NOW, 5, 2))).toEqual(point(NOW, 5, 2));
  });

  it("stores a change of the servers' states at the same total", () => {
    expect(nextHistoryPoint(point(NOW - MIN, 2, 1, 1), point(NOW, 2, 2))).toEqual(point(NOW, 2, 2));
  });

  it("never stamps a point before the newest one (a late cron reading after a manual reconcile)", () => {
    expect(nextHistoryPoint(point(NOW, 2), point(NOW - 30_000, 5, 2))?.at).toBe(NOW);
  });
});

describe("thinHistory", () => {
  it("keeps every point of the last 6 hours", () => {
    const points = Array.from({ length: 300 }, (_, i) => point(NOW - (300 - i) * MIN, i % 2 === 0 ? 2 : 5));
    expect(thinHistory(points, NOW)).toEqual(points);
  });

  it("drops points older than 31 days but keeps the newest point however old (it is the state now)", () => {
    const old = point(NOW - HISTORY_KEEP_MS - HOUR, 2);
    const older = point(NOW - HISTORY_KEEP_MS - 2 * HOUR, 5);
    expect(thinHistory([older, old], NOW)).toEqual([old]);
    expect(thinHistory([older, old, point(NOW - MIN, 3)], NOW)).toEqual([point(NOW - MIN, 3)]);
  });

  it("keeps one point per 5 minutes between 6 and 48 hours back: the last of each bucket", () => {
    const base = NOW - 10 * HOUR - (NOW % (5 * MIN));
    const points = [point(base, 2), point(base + MIN, 3), point(base + 2 * MIN, 4), point(base + 5 * MIN, 5), point(NOW - MIN, 1)];
    expect(thinHistory(points, NOW)).toEqual([point(base + 2 * MIN, 4), point(base + 5 * MIN, 5), point(NOW - MIN, 1)]);
  });

  it("keeps one point per 30 minutes between 2 and 31 days back", () => {
    const base = NOW - 5 * 24 * HOUR;
    const points = Array.from({ length: 60 }, (_, i) => point(base + i * MIN, i % 7));
    const kept = thinHistory([...points, point(NOW - MIN, 9)], NOW).slice(0, -1);
    expect(kept.length).toBeLessThanOrEqual(3);
    const buckets = kept.map((p) => Math.floor(p.at / (30 * MIN)));
    expect(new Set(buckets).size).toBe(buckets.length);
  });

  it("never keeps a point that repeats the one before it", () => {
    const base = NOW - 10 * HOUR - (NOW % (5 * MIN));
    // 2 -> 5 -> 2 inside one bucket thins to the bucket's last (2), which repeats the earlier 2.
    const points = [point(base - 5 * MIN, 2), point(base, 5), point(base + MIN, 2), point(NOW - MIN, 4)];
    expect(thinHistory(points, NOW)).toEqual([point(base - 5 * MIN, 2), point(NOW - MIN, 4)]);
  });

  it("is bounded whatever it is given (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ ago: fc.integer({ min: 0, max: 40 * 24 * HOUR }), desired: fc.integer({ min: 0, max: 4 }) }), { maxLength: 400 }), (raw) => {
        const points = raw.map((r) => point(NOW - r.ago, r.desired));
        const kept = thinHistory(points, NOW);
        expect(kept.length).toBeLessThanOrEqual(HISTORY_MAX_POINTS);
        // The state now survives; nothing else is older than the bound; time is ordered; no repeats.
        const newest = [...points].sort((a, b) => a.at - b.at).at(-1);
        if (newest !== undefined) expect(sameReading(kept.at(-1) as HistoryPoint, newest)).toBe(true);
        kept.slice(0, -1).forEach((p) => expect(NOW - p.at).toBeLessThan(HISTORY_KEEP_MS));
        kept.slice(1).forEach((p, i) => {
          expect(p.at).toBeGreaterThanOrEqual((kept[i] as HistoryPoint).at);
          expect(sameReading(p, kept[i] as HistoryPoint)).toBe(false);
        });
        // Thinning again changes nothing.
        expect(thinHistory(kept, NOW)).toEqual(kept);
      }),
    );
  });

  it("caps the rows at HISTORY_MAX_POINTS, keeping the newest", () => {
    const points = Array.from({ length: HISTORY_MAX_POINTS + 50 }, (_, i) => point(NOW - (HISTORY_MAX_POINTS + 50 - i) * 5_000, i % 2));
    const kept = thinHistory(points, NOW);
    expect(kept).toHaveLength(HISTORY_MAX_POINTS);
    expect(kept[kept.length - 1]).toEqual(points[points.length - 1]);
  });
});

describe("thinningDue", () => {
  it("thins on the first write of a fresh object, then at most every 10 minutes", () => {
    expect(thinningDue(undefined, NOW)).toBe(true);
    expect(thinningDue(NOW - HISTORY_THIN_EVERY_MS + 1, NOW)).toBe(false);
    expect(thinningDue(NOW - HISTORY_THIN_EVERY_MS, NOW)).toBe(true);
  });
});
