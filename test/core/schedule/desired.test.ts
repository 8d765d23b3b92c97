// desiredCount: precedence (paused > override > latest-fired entry > default > min), tie rule, clamping, DST, reasons.
import { describe, expect, it } from "vitest";
import { desiredCount } from "../../../src/core/schedule/desired.ts";
import { NOW, override, rules } from "../builders.ts";

const at = (s: string): Date => new Date(s);

// Office hours in Berlin: 10 from 08:00 Mon-Fri, 3 from 20:00 every day, 2 from 01:00.
const officeHours = rules({
  min: 1,
  max: 20,
  default: 4,
  schedules: [
    { name: "office hours", cron: "0 8 * * 1-5", timezone: "Europe/Berlin", desired: 10 },
    { name: "evening", cron: "0 20 * * *", timezone: "Europe/Berlin", desired: 3 },
    { name: "night", cron: "0 1 * * *", timezone: "Europe/Berlin", desired: 2 },
  ],
});

describe("desiredCount: the schedule entry that fired last decides", () => {
  it("takes office hours on a Thursday noon", () => {
    const d = desiredCount(officeHours, undefined, at("2026-11-26T11:00:00Z"));
    expect(d).toMatchObject({ value: 10, source: "schedule" });
  });

  it("takes the evening entry at 21:00 local", () => {
    expect(desiredCount(officeHours, undefined, at("2026-11-26T20:00:00Z")).value).toBe(3);
  });

  it("takes the night entry on Saturday noon (office hours did not fire that day)", () => {
    expect(desiredCount(officeHours, undefined, at("2026-11-28T11:00:00Z")).value).toBe(2);
  });

  it("switches exactly at the firing instant", () => {
    expect(desiredCount(officeHours, undefined, at("2026-11-26T06:59:59Z")).value).toBe(2);
    expect(desiredCount(officeHours, undefined, at("2026-11-26T07:00:00Z")).value).toBe(10);
  });

  it("names the entry, its cron and zone, and the firing in local time and ISO in the reason", () => {
    const d = desiredCount(officeHours, undefined, at("2026-11-26T11:00:00Z"));
    expect(d.reason).toBe("schedule 'office hours' (0 8 * * 1-5 Europe/Berlin) fired 2026-11-26T08:00+01:00 (2026-11-26T07:00:00.000Z): desired 10");
  });

  it("names an unnamed entry by its position", () => {
    const r = rules({ schedules: [{ cron: "0 8 * * *", timezone: "UTC", desired: 5 }] });
    expect(desiredCount(r, undefined, NOW).reason).toMatch(/^schedule #1 \(0 8 \* \* \* UTC\) fired/);
  });

  it("lets a one-shot entry win once it fires after the cron entries", () => {
    const r = rules({
      schedules: [
        { cron: "0 8 * * *", timezone: "UTC", desired: 5 },
        { name: "launch", at: "2026-11-26T14:00:00+01:00", desired: 12 },
      ],
    });
    expect(desiredCount(r, undefined, at("2026-11-26T12:59:00Z")).value).toBe(5);
    const d = desiredCount(r, undefined, at("2026-11-26T13:00:00Z"));
    expect(d).toMatchObject({ value: 12, source: "schedule" });
    expect(d.reason).toContain("one-shot 'launch' (at 2026-11-26T14:00:00+01:00)");
  });

  it("lets the next cron firing take over from a one-shot", () => {
    const r = rules({
      schedules: [
        { cron: "0 8 * * *", timezone: "UTC", desired: 5 },
        { at: "2026-11-26T14:00:00+01:00", desired: 12 },
      ],
    });
    expect(desiredCount(r, undefined, at("2026-11-27T08:00:00Z")).value).toBe(5);
  });

  it("compares firings across zones by instant, not by local clock time", () => {
    // 08:00 in New York (13:00Z) is later than 09:00 in Berlin (08:00Z).
    const r = rules({
      schedules: [
        { cron: "0 8 * * *", timezone: "America/New_York", desired: 7 },
        { cron: "0 9 * * *", timezone: "Europe/Berlin", desired: 4 },
      ],
    });
    expect(desiredCount(r, undefined, at("2026-11-26T14:00:00Z")).value).toBe(7);
  });
});

describe("desiredCount: tie rule (entries firing at the same instant)", () => {
  it("the larger desired value wins", () => {
    const r = rules({
      schedules: [
        { name: "small", cron: "0 8 * * *", timezone: "UTC", desired: 3 },
        { name: "large", cron: "0 9 * * *", timezone: "Europe/Berlin", desired: 9 },
      ],
    });
    const d = desiredCount(r, undefined, at("2026-11-26T08:30:00Z"));
    expect(d.value).toBe(9);
    expect(d.reason).toContain("'large'");
  });

  it("between equal values, the entry earlier in the list is named", () => {
    const r = rules({
      schedules: [
        { name: "first", cron: "0 8 * * *", timezone: "UTC", desired: 6 },
        { name: "second", cron: "0 8 * * *", timezone: "UTC", desired: 6 },
      ],
    });
    expect(desiredCount(r, undefined, at("2026-11-26T08:30:00Z")).reason).toContain("'first'");
  });
});

describe("desiredCount: before any entry has fired", () => {
  it("falls back to the default", () => {
    const r = rules({ min: 1, default: 4, schedules: [{ at: "2030-01-01T00:00:00Z", desired: 9 }] });
    expect(desiredCount(r, undefined, NOW)).toMatchObject({ value: 4, source: "default" });
  });

  it("falls back to min when there is no default", () => {
    const r = rules({ min: 2 });
    expect(desiredCount(r, undefined, NOW)).toMatchObject({ value: 2, source: "min" });
  });
});

describe("desiredCount: overrides", () => {
  it("an unexpired override beats the schedule", () => {
    const d = desiredCount(officeHours, override({ desired: 15, until: "2026-11-26T18:00:00Z" }), at("2026-11-26T11:00:00Z"));
    expect(d).toMatchObject({ value: 15, source: "override" });
    expect(d.reason).toBe("override 15 by alice until 2026-11-26T18:00:00Z: launch day");
  });

  it("an override ends by itself at `until`", () => {
    const d = desiredCount(officeHours, override({ until: "2026-11-26T11:00:00Z" }), at("2026-11-26T11:00:00Z"));
    expect(d).toMatchObject({ value: 10, source: "schedule" });
  });

  it("an override is clamped to [min, max] too", () => {
    const d = desiredCount(officeHours, override({ desired: 50 }), at("2026-11-26T11:00:00Z"));
    expect(d).toMatchObject({ value: 20, unclamped: 50, source: "override" });
    expect(d.reason).toMatch(/; clamped to max 20$/);
  });
});

describe("desiredCount: clamping", () => {
  it("a schedule value above max becomes max and keeps the unclamped value", () => {
    const r = rules({ max: 5, schedules: [{ cron: "0 8 * * *", timezone: "UTC", desired: 9 }] });
    expect(desiredCount(r, undefined, NOW)).toMatchObject({ value: 5, unclamped: 9 });
  });

  it("a schedule value below min becomes min", () => {
    const r = rules({ min: 3, schedules: [{ cron: "0 8 * * *", timezone: "UTC", desired: 0 }] });
    const d = desiredCount(r, undefined, NOW);
    expect(d).toMatchObject({ value: 3, unclamped: 0 });
    expect(d.reason).toMatch(/; raised to min 3$/);
  });

  it("leaves unclamped unset when the value was in range", () => {
    expect(desiredCount(officeHours, undefined, at("2026-11-26T11:00:00Z")).unclamped).toBeUndefined();
  });
});

describe("desiredCount: paused", () => {
  it("paused in the rules: source paused, value what it would otherwise be", () => {
    const r = rules({ ...officeHoursInput(), paused: true });
    const d = desiredCount(r, override({ desired: 15 }), at("2026-11-26T11:00:00Z"));
    expect(d).toMatchObject({ value: 15, source: "paused" });
    expect(d.reason).toMatch(/^paused by the rules \(paused: true\); would otherwise be override 15/);
  });

  it("paused at run time names who paused it", () => {
    const d = desiredCount(officeHours, undefined, at("2026-11-26T11:00:00Z"), { pausedBy: "bob" });
    expect(d).toMatchObject({ value: 10, source: "paused" });
    expect(d.reason).toMatch(/^paused by bob; would otherwise be schedule 'office hours'/);
  });
});

describe("desiredCount: DST", () => {
  const nightly = (zone: string) => rules({ default: 1, schedules: [{ cron: "30 2 * * *", timezone: zone, desired: 5 }, { cron: "0 12 * * *", timezone: zone, desired: 1 }] });

  it("Berlin spring forward: the 02:30 entry applies from 03:00 CEST", () => {
    const r = nightly("Europe/Berlin");
    expect(desiredCount(r, undefined, at("2026-03-29T00:59:59Z")).value).toBe(1);
    const d = desiredCount(r, undefined, at("2026-03-29T01:00:00Z"));
    expect(d.value).toBe(5);
    expect(d.reason).toContain("fired 2026-03-29T03:00+02:00 (2026-03-29T01:00:00.000Z)");
  });

  it("New York spring forward: the 02:30 entry applies from 03:00 EDT", () => {
    const r = nightly("America/New_York");
    expect(desiredCount(r, undefined, at("2026-03-08T06:59:59Z")).value).toBe(1);
    expect(desiredCount(r, undefined, at("2026-03-08T07:00:00Z")).value).toBe(5);
  });

  it("Berlin fall back: the 02:30 entry fires once, so a later entry is not undone in the repeated hour", () => {
    // 02:40 CEST (00:40Z) a one-shot sets 8; the repeated 02:30 (01:30Z, CET) must not fire again.
    const r = rules({ schedules: [{ cron: "30 2 * * *", timezone: "Europe/Berlin", desired: 5 }, { at: "2026-10-25T02:40:00+02:00", desired: 8 }] });
    expect(desiredCount(r, undefined, at("2026-10-25T01:45:00Z")).value).toBe(8);
  });

  it("New York fall back: the 01:30 entry fires once", () => {
    const r = rules({ schedules: [{ cron: "30 1 * * *", timezone: "America/New_York", desired: 5 }, { at: "2026-11-01T01:40:00-04:00", desired: 8 }] });
    // 06:45Z is 01:45 EST, after the second 01:30 (06:30Z).
    expect(desiredCount(r, undefined, at("2026-11-01T06:45:00Z")).value).toBe(8);
  });
});

describe("desiredCount: stateless", () => {
  it("gives the same answer whether or not earlier ticks ran (only now matters)", () => {
    const now = at("2026-11-26T11:00:00Z");
    const first = desiredCount(officeHours, undefined, now);
    for (let h = 0; h < 48; h += 1) desiredCount(officeHours, undefined, new Date(now.getTime() - h * 3_600_000));
    expect(desiredCount(officeHours, undefined, now)).toEqual(first);
  });
});

function officeHoursInput() {
  return {
    min: 1,
    max: 20,
    default: 4,
    schedules: [{ name: "office hours", cron: "0 8 * * 1-5", timezone: "Europe/Berlin", desired: 10 }],
  };
}
