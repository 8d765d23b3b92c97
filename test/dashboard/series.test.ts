// The dashboard chart's data (dashboard/src/series.ts): exact steps from history and timeline, "now", DST days in the group's zone.
import { describe, expect, it } from "vitest";
import { chartData, groupZone, stepAt, type HistoryPointJson } from "../../dashboard/src/series.ts";
import { timeline } from "../../src/core/schedule/timeline.ts";
import { rules } from "../core/builders.ts";

const H = 3_600_000;
const NOW = Date.parse("2026-11-30T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString();

describe("stepAt", () => {
  it("holds each value from its instant until the next, and is null before the first", () => {
    const points = [{ t: 10, v: 1 }, { t: 20, v: 3 }];
    expect([5, 10, 15, 20, 99].map((t) => stepAt(points, (p) => p.t, (p) => p.v, t))).toEqual([null, 1, 1, 3, 3]);
  });
});

describe("chartData", () => {
  const history: HistoryPointJson[] = [
    { at: iso(NOW - 3 * H), desired: 2, actual: {} },
    { at: iso(NOW - 2 * H), desired: 5, actual: { ACTIVE: 2, BUILD: 3 } },
    { at: iso(NOW - H), desired: 5, actual: { ACTIVE: 5 } },
  ];
  const ahead = [
    { at: iso(NOW), value: 5, reason: "r", source: "schedule" },
    { at: iso(NOW + H), value: 2, reason: "r", source: "schedule" },
  ];

  it("puts a point at every change, the window's edges and now", () => {
    const d = chartData(history, ahead, NOW, 4, 4);
    expect(d.xs.map((x) => x * 1000)).toEqual([NOW - 4 * H, NOW - 3 * H, NOW - 2 * H, NOW - H, NOW, NOW + H, NOW + 4 * H]);
    expect(d.from * 1000).toBe(NOW - 4 * H);
    expect(d.to * 1000).toBe(NOW + 4 * H);
  });

  it("draws desired from the history before now and from the timeline after", () => {
    const d = chartData(history, ahead, NOW, 4, 4);
    expect(d.desired).toEqual([null, 2, 5, 5, 5, 2, 2]);
  });

  it("draws actual (all states, and ACTIVE) only up to now", () => {
    const d = chartData(history, ahead, NOW, 4, 4);
    expect(d.actual).toEqual([null, 0, 5, 5, 5, null, null]);
    expect(d.active).toEqual([null, 0, 2, 5, 5, null, null]);
  });

  it("starts a window inside the history with the state in force at its start", () => {
    const d = chartData(history, ahead, NOW, 1.5, 1);
    expect(d.desired[0]).toBe(5);
    expect(d.actual[0]).toBe(5);
  });

  it("leaves out points outside the window", () => {
    const d = chartData(history, [...ahead, { at: iso(NOW + 10 * H), value: 9, reason: "r", source: "schedule" }], NOW, 4, 4);
    expect(d.desired).not.toContain(9);
  });

  it("steps at 08:00 in the group's zone on both sides of a DST change (Europe/Berlin, 29 March 2026)", () => {
    const berlin = rules({
      max: 20,
      default: 2,
      schedules: [
        { name: "office", cron: "0 8 * * *", timezone: "Europe/Berlin", desired: 10 },
        { name: "night", cron: "0 20 * * *", timezone: "Europe/Berlin", desired: 2 },
      ],
    });
    const now = Date.parse("2026-03-28T00:00:00Z");
    const d = chartData([], timeline(berlin, undefined, new Date(now), 48), now, 0, 48);
    const stepsTo10 = d.xs.filter((_, i) => d.desired[i] === 10 && d.desired[i - 1] !== 10).map((x) => iso(x * 1000));
    // 08:00 CET is 07:00Z on Saturday; 08:00 CEST is 06:00Z on Sunday, the day the clocks go forward.
    expect(stepsTo10).toEqual(["2026-03-28T07:00:00.000Z", "2026-03-29T06:00:00.000Z"]);
  });
});

describe("groupZone", () => {
  it("reads the zone of the first schedule entry that has one, else UTC", () => {
    expect(groupZone({ schedules: [{ at: "2026-12-01T10:00:00Z" }, { timezone: "Europe/Berlin" }] })).toBe("Europe/Berlin");
    expect(groupZone({ schedules: [] })).toBe("UTC");
    expect(groupZone(undefined)).toBe("UTC");
  });
});
