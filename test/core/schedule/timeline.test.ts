// timeline: change points of the effective desired count over the coming hours, consistent with desiredCount.
import { describe, expect, it } from "vitest";
import { desiredCount } from "../../../src/core/schedule/desired.ts";
import { changePoints, TIMELINE_MAX_EVENTS, timeline } from "../../../src/core/schedule/timeline.ts";
import { override, rules } from "../builders.ts";

const at = (s: string): Date => new Date(s);

const officeHours = rules({
  min: 1,
  max: 20,
  schedules: [
    { name: "office hours", cron: "0 8 * * 1-5", timezone: "Europe/Berlin", desired: 10 },
    { name: "evening", cron: "0 20 * * *", timezone: "Europe/Berlin", desired: 3 },
  ],
});

describe("timeline", () => {
  it("starts with the value at `from`", () => {
    const points = timeline(officeHours, undefined, at("2026-11-26T11:00:00Z"), 1);
    expect(points).toEqual([{ at: "2026-11-26T11:00:00.000Z", value: 10, source: "schedule", reason: desiredCount(officeHours, undefined, at("2026-11-26T11:00:00Z")).reason }]);
  });

  it("lists each change of value at the instant it happens, across days and weekends", () => {
    // Thursday noon to Monday noon (Berlin, UTC+1).
    const points = timeline(officeHours, undefined, at("2026-11-26T11:00:00Z"), 96);
    expect(points.map((p) => [p.at, p.value])).toEqual([
      ["2026-11-26T11:00:00.000Z", 10],
      ["2026-11-26T19:00:00.000Z", 3],
      ["2026-11-27T07:00:00.000Z", 10],
      ["2026-11-27T19:00:00.000Z", 3],
      ["2026-11-30T07:00:00.000Z", 10],
    ]);
  });

  it("does not repeat a point when an entry fires again with the same value", () => {
    const points = timeline(officeHours, undefined, at("2026-11-28T00:00:00Z"), 24);
    expect(points).toHaveLength(1);
  });

  it("includes the end of an override", () => {
    const points = timeline(officeHours, override({ desired: 15, until: "2026-11-26T13:00:00Z" }), at("2026-11-26T11:00:00Z"), 4);
    expect(points.map((p) => [p.at, p.value, p.source])).toEqual([
      ["2026-11-26T11:00:00.000Z", 15, "override"],
      ["2026-11-26T13:00:00.000Z", 10, "schedule"],
    ]);
  });

  it("shows a change of source even when the value stays (override ends on the scheduled value)", () => {
    const points = timeline(officeHours, override({ desired: 10, until: "2026-11-26T13:00:00Z" }), at("2026-11-26T11:00:00Z"), 4);
    expect(points.map((p) => p.source)).toEqual(["override", "schedule"]);
  });

  it("includes a one-shot entry inside the window", () => {
    const r = rules({ default: 2, schedules: [{ name: "launch", at: "2026-11-26T14:00:00+01:00", desired: 12 }] });
    expect(timeline(r, undefined, at("2026-11-26T11:00:00Z"), 4).map((p) => [p.at, p.value])).toEqual([
      ["2026-11-26T11:00:00.000Z", 2],
      ["2026-11-26T13:00:00.000Z", 12],
    ]);
  });

  it("shows a paused group as paused throughout, with the values it would have", () => {
    const points = timeline(officeHours, undefined, at("2026-11-26T11:00:00Z"), 12, { pausedBy: "bob" });
    expect(points.map((p) => [p.value, p.source])).toEqual([
      [10, "paused"],
      [3, "paused"],
    ]);
  });

  it("a window of 0 hours (or a nonsense length) is just the value at `from`", () => {
    expect(timeline(officeHours, undefined, at("2026-11-26T11:00:00Z"), 0)).toHaveLength(1);
    expect(timeline(officeHours, undefined, at("2026-11-26T11:00:00Z"), Number.NaN)).toHaveLength(1);
    expect(timeline(officeHours, undefined, at("2026-11-26T11:00:00Z"), -5)).toHaveLength(1);
  });

  it("says when the work bound cut it short: entries that change the value every minute", () => {
    // `*/2` (5) and `* * * * *` (3) tie on even minutes, so the value changes every minute.
    const flapping = rules({ schedules: [{ cron: "* * * * *", timezone: "UTC", desired: 3 }, { cron: "*/2 * * * *", timezone: "UTC", desired: 5 }] });
    const result = changePoints(flapping, undefined, at("2026-11-26T00:00:00Z"), 24 * 14);
    expect(result.truncated).toBe(true);
    expect(result.points.length).toBeLessThanOrEqual(TIMELINE_MAX_EVENTS + 1);
    expect(Date.parse(result.through)).toBeLessThan(Date.parse("2026-12-10T00:00:00Z"));
    expect(Date.parse(result.points.at(-1)?.at ?? "")).toBeLessThanOrEqual(Date.parse(result.through));
  });

  it("fifty minutely entries with different values are one point over 14 days, complete (the largest always wins the tie)", () => {
    const fifty = rules({ max: 100, schedules: Array.from({ length: 50 }, (_, i) => ({ cron: "* * * * *", timezone: "UTC", desired: i })) });
    const result = changePoints(fifty, undefined, at("2026-11-26T00:00:00Z"), 24 * 14);
    expect(result).toEqual({ points: [expect.objectContaining({ value: 49 })], truncated: false, through: "2026-12-10T00:00:00.000Z" });
  });

  it("an hourly entry under a minutely one with a larger value never decides, so it adds no work and no point", () => {
    const r = rules({ schedules: [{ cron: "* * * * *", timezone: "UTC", desired: 5 }, { cron: "0 * * * *", timezone: "UTC", desired: 2 }] });
    expect(changePoints(r, undefined, at("2026-11-26T00:00:00Z"), 24 * 14)).toMatchObject({ truncated: false, points: [{ value: 5 }] });
  });

  it("maxPoints stops the walk once it has that many changes (status's next changes)", () => {
    const result = changePoints(officeHours, undefined, at("2026-11-26T11:00:00Z"), 24 * 14, {}, 2);
    expect(result.points).toHaveLength(3);
    expect(result.truncated).toBe(false);
  });

  it("window edges and exception days are change points, named by their rule", () => {
    const r = rules({
      default: 1,
      schedules: [{ name: "office hours", window: "Mon-Fri 08:00-20:00", timezone: "Europe/Berlin", desired: 4 }],
      exceptions: [{ name: "christmas", dates: ["2026-12-24", "2026-12-25"], timezone: "Europe/Berlin", desired: 0 }],
    });
    const points = timeline(r, undefined, at("2026-12-23T12:00:00Z"), 96);
    expect(points.map((p) => [p.at, p.value, p.source])).toEqual([
      ["2026-12-23T12:00:00.000Z", 4, "window"],
      ["2026-12-23T19:00:00.000Z", 1, "default"],
      ["2026-12-23T23:00:00.000Z", 0, "exception"],
      ["2026-12-25T23:00:00.000Z", 1, "default"],
    ]);
    expect(points[0]?.reason).toContain("window 'office hours' Mon-Fri 08:00-20:00 Europe/Berlin");
    expect(points[2]?.reason).toContain("exception 'christmas'");
  });

  it("a point entry that fired inside a window shows when the window closes", () => {
    const r = rules({
      default: 1,
      schedules: [
        { window: "Mon-Fri 08:00-20:00", timezone: "UTC", desired: 4 },
        { cron: "0 12 * * *", timezone: "UTC", desired: 6 },
      ],
    });
    const points = timeline(r, undefined, at("2026-11-30T00:00:00Z"), 24);
    expect(points.map((p) => [p.at, p.value, p.source])).toEqual([
      ["2026-11-30T00:00:00.000Z", 6, "schedule"],
      ["2026-11-30T08:00:00.000Z", 4, "window"],
      ["2026-11-30T20:00:00.000Z", 6, "schedule"],
    ]);
  });

  it("every point's value is what desiredCount says at that instant and just before the next point", () => {
    const r = rules({
      min: 1,
      max: 12,
      schedules: [
        { cron: "30 2 * * *", timezone: "Europe/Berlin", desired: 9 },
        { cron: "0 12 * * *", timezone: "America/New_York", desired: 4 },
        { at: "2026-03-29T05:00:00+02:00", desired: 20 },
      ],
    });
    const ov = override({ desired: 7, until: "2026-03-28T20:00:00Z" });
    // Across Berlin's spring-forward night.
    const points = timeline(r, ov, at("2026-03-28T00:00:00Z"), 72);
    points.forEach((p, i) => {
      expect(desiredCount(r, ov, at(p.at)).value).toBe(p.value);
      const next = points[i + 1];
      if (next !== undefined) expect(desiredCount(r, ov, new Date(Date.parse(next.at) - 1)).value).toBe(p.value);
    });
    expect(points.map((p) => p.at)).toContain("2026-03-29T01:00:00.000Z");
  });
});
