// Mozilla's holiday calendars for Thunderbird (all 190, vendored): each is accepted, and covers exactly the days an independent parser gets in 2026-2028.
import { beforeAll, describe, expect, it } from "vitest";
import reference from "./fixtures/thunderbird/reference.json";
import { isCalendarDay } from "../../../src/core/schedule/calendar.ts";
import { parseIcs, type CalendarDays } from "../../../src/core/schedule/ics.ts";
import { dayNumber, formatDay } from "../../../src/core/schedule/zoned.ts";
import { thunderbirdCalendars } from "../../support/thunderbird.ts";

/**
 * The reference (fixtures/thunderbird/reference.json) was made by generate-reference.py beside it with Python's
 * icalendar and recurring-ical-events (Debian's packages), not by novascale's code; see the README there.
 */
type Reference = { from: string; through: string; zones: string[]; calendars: Record<string, Record<string, string[]> | { error: string }> };
const ref = reference as unknown as Reference;

const texts = new Map<string, string>();
beforeAll(async () => {
  for (const [name, text] of await thunderbirdCalendars()) texts.set(name, text);
});

const parsed = new Map<string, CalendarDays>();
function calendar(name: string): CalendarDays {
  let cal = parsed.get(name);
  if (cal === undefined) {
    const r = parseIcs(texts.get(name) ?? "");
    if ("error" in r) throw new Error(`${name}: ${r.error}`);
    parsed.set(name, (cal = r));
  }
  return cal;
}

function daysIn(cal: CalendarDays, zone: string): string[] {
  const out: string[] = [];
  const [fy, fm, fd] = ref.from.split("-").map(Number) as [number, number, number];
  const [ty, tm, td] = ref.through.split("-").map(Number) as [number, number, number];
  for (let d = dayNumber(fy, fm, fd); d <= dayNumber(ty, tm, td); d += 1) if (isCalendarDay(cal, d, zone)) out.push(formatDay(d));
  return out;
}

const names = Object.keys(ref.calendars).sort();

describe("the vendored Thunderbird calendars", () => {
  it("are all 190 of media/caldata (and autogen/), with a reference for each over 2026-2028 in UTC and Europe/Berlin", () => {
    expect([...texts.keys()].sort()).toEqual(names);
    expect(names).toHaveLength(190);
    expect([ref.from, ref.through, ref.zones]).toEqual(["2026-01-01", "2028-12-31", ["UTC", "Europe/Berlin"]]);
  });
  it("the reference read every one of them", () => {
    expect(names.filter((n) => "error" in ref.calendars[n]!)).toEqual([]);
  });
});

describe.each(names)("%s", (name) => {
  it("is accepted", () => {
    const r = parseIcs(texts.get(name)!);
    expect("error" in r ? r.error : "accepted").toBe("accepted");
  });
  for (const zone of ["UTC", "Europe/Berlin"]) {
    it(`covers the reference's days in 2026-2028 (${zone})`, () => {
      const want = (ref.calendars[name] as Record<string, string[]>)[zone]!;
      expect(daysIn(calendar(name), zone)).toEqual(want);
    });
  }
});
