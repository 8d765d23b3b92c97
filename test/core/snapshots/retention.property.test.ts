// Properties of restic's forget rules in decideRetention over generated histories (fast-check): the oldest snapshot and keepWithin's cutoff.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decideRetention, type CalendarRetention, type RetentionSnapshot } from "../../../src/core/snapshots/retention.ts";
import { image, NO_GUARD } from "./builders.ts";

const BASE = Date.parse("2026-01-01T00:00:00Z");
const HOUR = 3_600_000;

/** A history: distinct snapshot times, in hours after BASE (up to two years), unsorted. */
const historyArb = fc.uniqueArray(fc.integer({ min: 0, max: 2 * 365 * 24 }), { minLength: 1, maxLength: 60 }).map((hours) =>
  hours.map((h, i): RetentionSnapshot => {
    const at = new Date(BASE + h * HOUR).toISOString();
    return { image: image({ id: `s${String(i).padStart(3, "0")}`, firing: at, status: "active", source: "a" }), at, manual: false, source: "a" };
  }),
);

function keptTimes(snapshots: RetentionSnapshot[], rules: CalendarRetention): Set<string> {
  const newest = [...snapshots].map((s) => s.at).sort().at(-1)!;
  const d = decideRetention({ snapshots, rules, keepManual: 5, timezone: "UTC", now: new Date("2030-01-01T00:00:00Z"), latestFiring: newest, perSource: false, guard: NO_GUARD, stuckAfterMs: 6 * HOUR });
  return new Set(d.filter((x) => x.action === "keep").map((x) => x.at));
}

const distinct = (snapshots: RetentionSnapshot[], key: (at: string) => string) => new Set(snapshots.map((s) => key(s.at))).size;

describe("restic's forget over generated histories", () => {
  it("a calendar rule whose count exceeds the history's buckets keeps the oldest snapshot (restic >= 0.16)", () => {
    fc.assert(
      fc.property(historyArb, fc.constantFrom("keepDaily", "keepMonthly", "keepYearly") as fc.Arbitrary<"keepDaily" | "keepMonthly" | "keepYearly">, (history, rule) => {
        const key = { keepDaily: (a: string) => a.slice(0, 10), keepMonthly: (a: string) => a.slice(0, 7), keepYearly: (a: string) => a.slice(0, 4) }[rule];
        const oldest = [...history].map((s) => s.at).sort()[0]!;
        expect(keptTimes(history, { [rule]: distinct(history, key) + 1 }).has(oldest)).toBe(true);
      }),
    );
  });

  it("a calendar rule keeps at most its count plus the oldest snapshot", () => {
    fc.assert(
      fc.property(historyArb, fc.integer({ min: 1, max: 20 }), (history, n) => {
        expect(keptTimes(history, { keepDaily: n }).size).toBeLessThanOrEqual(n + 1);
      }),
    );
  });

  it("keepWithin keeps exactly the snapshots strictly after the newest minus the duration", () => {
    fc.assert(
      fc.property(historyArb, fc.nat(), fc.boolean(), (history, pick, onBoundary) => {
        const newest = Math.max(...history.map((s) => Date.parse(s.at)));
        // Half the cases put a snapshot exactly on the cutoff: that one is not kept.
        const gap = (newest - Date.parse(history[pick % history.length]!.at)) / HOUR;
        const hours = onBoundary && gap > 0 ? gap : 1 + (pick % 2000);
        const want = new Set(history.filter((s) => Date.parse(s.at) > newest - hours * HOUR).map((s) => s.at));
        expect(keptTimes(history, { keepWithin: `${hours}h` })).toEqual(want);
      }),
    );
  });
});
