// Window entries: the spec grammar, which instants are inside, wrapping midnight and the week, and DST edges.
import { describe, expect, it } from "vitest";
import { desiredCount } from "../../../src/core/schedule/desired.ts";
import { nextWindowEdge, openingAt, parseWindow } from "../../../src/core/schedule/windows.ts";
import { rules } from "../builders.ts";

const ms = (s: string): number => Date.parse(s);
const inside = (spec: string, zone: string, at: string): boolean => openingAt(spec, zone, ms(at)) !== undefined;
const error = (spec: string): string | undefined => {
  const r = parseWindow(spec);
  return "error" in r ? r.error : undefined;
};

describe("window specs", () => {
  it("a day range with a time range: Mon-Fri 08:00-20:00 is five spans", () => {
    expect(parseWindow("Mon-Fri 08:00-20:00")).toEqual({
      spans: [0, 1, 2, 3, 4].map((day) => ({ day, start: 480, endDay: 0, end: 1200 })),
    });
  });

  it("day lists, full day names and any case are read", () => {
    expect(parseWindow("mon,Wednesday 08:00-09:00")).toEqual({ spans: [{ day: 0, start: 480, endDay: 0, end: 540 }, { day: 2, start: 480, endDay: 0, end: 540 }] });
  });

  it("a day range wraps the week: Fri-Mon is Fri, Sat, Sun, Mon", () => {
    const r = parseWindow("Fri-Mon 10:00-11:00");
    expect("spans" in r ? r.spans.map((s) => s.day) : []).toEqual([0, 4, 5, 6]);
  });

  it("several time ranges, and a range that wraps midnight ends the next day", () => {
    expect(parseWindow("Sat 08:00-12:00,22:00-02:00")).toEqual({
      spans: [
        { day: 5, start: 480, endDay: 0, end: 720 },
        { day: 5, start: 1320, endDay: 1, end: 120 },
      ],
    });
  });

  it("times alone mean every day; 24:00 is the end of the day", () => {
    const r = parseWindow("00:00-24:00");
    expect("spans" in r ? r.spans : []).toHaveLength(7);
  });

  it("Fri 22:00-Mon 06:00 is one span across the weekend; Fri 22:00-Fri 06:00 wraps the whole week", () => {
    expect(parseWindow("Fri 22:00-Mon 06:00")).toEqual({ spans: [{ day: 4, start: 1320, endDay: 3, end: 360 }] });
    expect(parseWindow("Fri 22:00-Fri 06:00")).toEqual({ spans: [{ day: 4, start: 1320, endDay: 7, end: 360 }] });
  });

  it("a range that ends at its start is 24 hours wrapping midnight, not empty: Mon 22:00-22:00 closes Tuesday 22:00", () => {
    expect(error("Mon 08:00-08:00")).toBeUndefined();
    expect(parseWindow("Mon 22:00-22:00")).toEqual({ spans: [{ day: 0, start: 1320, endDay: 1, end: 1320 }] });
  });

  it("refuses unknown days, bad times and stray words, saying which part", () => {
    expect(error("Mon-Fry 08:00-20:00")).toContain("'Mon-Fry'");
    expect(error("Mon 25:00-26:00")).toContain("'25:00-26:00'");
    expect(error("Mon 24:00-08:00")).toContain("'24:00-08:00'");
    expect(error("every Monday 08:00-20:00")).toContain("expected");
    expect(error("")).toContain("expected");
  });
});

describe("window membership", () => {
  const office = "Mon-Fri 08:00-20:00";

  it("is inside from the opening edge and outside from the closing edge (Berlin, winter: UTC+1)", () => {
    expect(inside(office, "Europe/Berlin", "2026-11-30T06:59:59Z")).toBe(false);
    expect(inside(office, "Europe/Berlin", "2026-11-30T07:00:00Z")).toBe(true);
    expect(inside(office, "Europe/Berlin", "2026-11-30T18:59:59Z")).toBe(true);
    expect(inside(office, "Europe/Berlin", "2026-11-30T19:00:00Z")).toBe(false);
  });

  it("is outside on the weekend", () => {
    expect(inside(office, "Europe/Berlin", "2026-12-05T11:00:00Z")).toBe(false);
  });

  it("a range wrapping midnight covers the early hours of the next day (Sat 22:00-02:00 holds on Sunday 01:00)", () => {
    expect(inside("Sat 22:00-02:00", "UTC", "2026-12-06T01:00:00Z")).toBe(true);
    expect(inside("Sat 22:00-02:00", "UTC", "2026-12-06T02:00:00Z")).toBe(false);
  });

  it("a window wrapping the week (Fri 22:00-Mon 06:00) holds all weekend and closes Monday 06:00", () => {
    expect(inside("Fri 22:00-Mon 06:00", "UTC", "2026-12-04T22:00:00Z")).toBe(true);
    expect(inside("Fri 22:00-Mon 06:00", "UTC", "2026-12-06T12:00:00Z")).toBe(true);
    expect(inside("Fri 22:00-Mon 06:00", "UTC", "2026-12-07T05:59:00Z")).toBe(true);
    expect(inside("Fri 22:00-Mon 06:00", "UTC", "2026-12-07T06:00:00Z")).toBe(false);
    expect(inside("Fri 22:00-Mon 06:00", "UTC", "2026-12-04T21:59:00Z")).toBe(false);
  });

  it("spans that touch are one opening: Mon-Fri 00:00-24:00 on a Tuesday is open until Saturday 00:00", () => {
    expect(openingAt("Mon-Fri 00:00-24:00", "UTC", ms("2026-12-01T12:00:00Z"))?.until).toBe(ms("2026-12-05T00:00:00Z"));
  });

  it("the next edge after an instant is the next opening or closing", () => {
    expect(nextWindowEdge(office, "Europe/Berlin", ms("2026-11-30T12:00:00Z"))).toBe(ms("2026-11-30T19:00:00Z"));
    expect(nextWindowEdge(office, "Europe/Berlin", ms("2026-12-04T20:00:00Z"))).toBe(ms("2026-12-07T07:00:00Z"));
  });
});

/*
 * DST in 2026: Europe/Berlin springs forward 29 Mar 02:00 -> 03:00 and falls back 25 Oct 03:00 -> 02:00;
 * America/New_York 8 Mar 02:00 -> 03:00 and 1 Nov 02:00 -> 01:00.
 */
describe("window edges are wall-clock times (DST)", () => {
  it("a night window over spring forward is an hour shorter (Berlin Sat 22:00-Sun 06:00: 7 h)", () => {
    const o = openingAt("Sat 22:00-Sun 06:00", "Europe/Berlin", ms("2026-03-28T23:00:00Z"));
    expect(o).toEqual({ from: ms("2026-03-28T21:00:00Z"), until: ms("2026-03-29T04:00:00Z") });
  });

  it("a night window over fall back is an hour longer (Berlin Sat 22:00-Sun 06:00: 9 h)", () => {
    const o = openingAt("Sat 22:00-Sun 06:00", "Europe/Berlin", ms("2026-10-24T23:00:00Z"));
    expect(o).toEqual({ from: ms("2026-10-24T20:00:00Z"), until: ms("2026-10-25T05:00:00Z") });
  });

  it("an edge inside the spring-forward gap moves to the end of the gap (New York Sun 02:30 opens at 03:00 EDT)", () => {
    const o = openingAt("Sun 02:30-04:00", "America/New_York", ms("2026-03-08T07:30:00Z"));
    expect(o?.from).toBe(ms("2026-03-08T07:00:00Z"));
    expect(o?.until).toBe(ms("2026-03-08T08:00:00Z"));
  });

  it("an edge inside the repeated hour is its first occurrence, and the window does not reopen on the second (Berlin Sun 00:00-02:30)", () => {
    expect(openingAt("Sun 00:00-02:30", "Europe/Berlin", ms("2026-10-24T22:00:00Z"))?.until).toBe(ms("2026-10-25T00:30:00Z"));
    // 02:10 CET (the second pass of 02:xx) is after the window closed.
    expect(inside("Sun 00:00-02:30", "Europe/Berlin", "2026-10-25T01:10:00Z")).toBe(false);
  });

  it("office hours keep 08:00-20:00 local on both sides of a switch (Berlin: 07:00Z in winter, 06:00Z in summer)", () => {
    expect(inside("Mon-Fri 08:00-20:00", "Europe/Berlin", "2026-03-27T07:00:00Z")).toBe(true);
    expect(inside("Mon-Fri 08:00-20:00", "Europe/Berlin", "2026-03-30T06:00:00Z")).toBe(true);
    expect(inside("Mon-Fri 08:00-20:00", "Europe/Berlin", "2026-03-27T06:30:00Z")).toBe(false);
  });
});

describe("windows in desiredCount", () => {
  const r = rules({
    default: 1,
    schedules: [
      { name: "office hours", window: "Mon-Fri 08:00-20:00", timezone: "Europe/Berlin", desired: 4 },
      { name: "busy", window: "Mon 12:00-14:00", timezone: "Europe/Berlin", desired: 6 },
      { name: "quiet", window: "Mon 13:00-15:00", timezone: "Europe/Berlin", desired: 2 },
      { name: "evening", cron: "0 18 * * *", timezone: "Europe/Berlin", desired: 3 },
    ],
  });
  const at = (s: string) => desiredCount(r, undefined, new Date(s));

  it("inside a window its value applies, named with its spec and zone", () => {
    const d = at("2026-12-01T09:00:00Z");
    expect([d.value, d.source]).toEqual([4, "window"]);
    expect(d.reason).toContain("window 'office hours' Mon-Fri 08:00-20:00 Europe/Berlin");
  });

  it("overlapping windows: the largest desired wins (busy 6 over office hours 4 over quiet 2)", () => {
    expect(at("2026-11-30T11:30:00Z").value).toBe(6); // Mon 12:30: office, busy
    expect(at("2026-11-30T12:30:00Z").value).toBe(6); // Mon 13:30: office, busy, quiet
    expect(at("2026-11-30T13:30:00Z").value).toBe(4); // Mon 14:30: office, quiet
  });

  it("a point entry firing inside a window does not change the count while the window is open", () => {
    const d = at("2026-12-01T17:30:00Z"); // Tue 18:30, the evening entry fired at 18:00
    expect([d.value, d.source]).toEqual([4, "window"]);
  });

  it("when the window closes, the point entry that fired last (even inside the window) decides", () => {
    const d = at("2026-12-01T19:00:00Z"); // Tue 20:00
    expect([d.value, d.source]).toEqual([3, "schedule"]);
    expect(d.reason).toContain("schedule 'evening'");
  });

  it("outside every window and before any firing, the default applies", () => {
    const early = rules({ default: 1, schedules: [{ window: "Mon-Fri 08:00-20:00", timezone: "Europe/Berlin", desired: 4 }] });
    expect(desiredCount(early, undefined, new Date("2026-12-05T12:00:00Z")).source).toBe("default");
  });

  // Berlin in winter is UTC+1: Sat 5 Dec 22:00 local is 21:00Z.
  const allDay = () => rules({ default: 1, schedules: [{ name: "day", window: "Sat 22:00-22:00", timezone: "Europe/Berlin", desired: 5 }] });
  it.each([
    ["Sat 21:59, before it opens", "2026-12-05T20:59:00Z", 1],
    ["Sat 22:00, the opening edge", "2026-12-05T21:00:00Z", 5],
    ["Sat 23:59, before midnight", "2026-12-05T22:59:00Z", 5],
    ["Sun 00:30, after midnight", "2026-12-05T23:30:00Z", 5],
    ["Sun 21:59, the last minute", "2026-12-06T20:59:00Z", 5],
    ["Sun 22:00, the closing edge", "2026-12-06T21:00:00Z", 1],
  ])("a 24-hour window Sat 22:00-22:00 (Berlin) holds across midnight until Sunday 22:00: %s (%s) -> %i", (_, instant, want) => {
    expect(desiredCount(allDay(), undefined, new Date(instant)).value).toBe(want);
  });

  it("a window's value is clamped to [min, max] like any other", () => {
    const big = rules({ max: 3, schedules: [{ window: "00:00-24:00", desired: 9 }] });
    const d = desiredCount(big, undefined, new Date("2026-12-05T12:00:00Z"));
    expect([d.value, d.unclamped]).toEqual([3, 9]);
  });
});
