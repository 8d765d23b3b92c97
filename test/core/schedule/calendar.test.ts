// Exception calendars: iCalendar parsing (folding, all-day dates, exclusive DTEND, yearly rules) and whole local days.
import { describe, expect, it } from "vitest";
import { exceptionActive, nextExceptionEdge, parseDate } from "../../../src/core/schedule/calendar.ts";
import { ICS_MAX_DAYS, parseIcs, type CalendarDays } from "../../../src/core/schedule/ics.ts";
import { formatDay } from "../../../src/core/schedule/zoned.ts";

const ms = (s: string): number => Date.parse(s);
const ics = (...events: string[][]): string =>
  ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", ...events.flatMap((e) => ["BEGIN:VEVENT", ...e, "END:VEVENT"]), "END:VCALENDAR", ""].join("\r\n");
const days = (text: string): string[] => {
  const r = parseIcs(text);
  return "dates" in r ? r.dates.map(formatDay) : [r.error];
};
const calendar = (text: string): CalendarDays => {
  const r = parseIcs(text);
  if (!("dates" in r)) throw new Error(r.error);
  return r;
};

describe("iCalendar all-day events", () => {
  it("DTSTART;VALUE=DATE without DTEND is one day", () => {
    expect(days(ics(["SUMMARY:Christmas", "DTSTART;VALUE=DATE:20261225"]))).toEqual(["2026-12-25"]);
  });

  it("DTEND is exclusive: 24 to 26 December covers the 24th and 25th", () => {
    expect(days(ics(["DTSTART;VALUE=DATE:20261224", "DTEND;VALUE=DATE:20261226"]))).toEqual(["2026-12-24", "2026-12-25"]);
  });

  it("a whole-day DURATION counts days", () => {
    expect(days(ics(["DTSTART;VALUE=DATE:20261231", "DURATION:P2D"]))).toEqual(["2026-12-31", "2027-01-01"]);
  });

  it("folded lines (CRLF + space) are unfolded before reading", () => {
    const text = ics(["SUMMARY:A very long holiday na", " me", "DTSTART;VALUE=DATE:2026", " 1224"]);
    expect(days(text)).toEqual(["2026-12-24"]);
  });

  it("bare LF line ends and extra properties and components are tolerated", () => {
    const text = ["BEGIN:VCALENDAR", "BEGIN:VTIMEZONE", "TZID:Europe/Berlin", "END:VTIMEZONE", "BEGIN:VEVENT", 'X-THING;X-P="a:b":c', "DTSTART;VALUE=DATE:20260101", "END:VEVENT", "END:VCALENDAR"].join("\n");
    expect(days(text)).toEqual(["2026-01-01"]);
  });

  it("an alarm inside an event (its own DURATION and TRIGGER) does not change the event's days", () => {
    const text = ics(["DTSTART;VALUE=DATE:20261224", "BEGIN:VALARM", "TRIGGER:-PT15M", "DURATION:PT15M", "REPEAT:2", "END:VALARM"]);
    expect(days(text)).toEqual(["2026-12-24"]);
  });

  it("a byte-order mark and lower-case property names are read", () => {
    expect(days(`\uFEFF${ics(["dtstart;value=DATE:20261224"])}`)).toEqual(["2026-12-24"]);
  });

  it("cancelled events are skipped", () => {
    expect(days(ics(["DTSTART;VALUE=DATE:20261224", "STATUS:CANCELLED"], ["DTSTART;VALUE=DATE:20261225"]))).toEqual(["2026-12-25"]);
  });

  it("refuses a timed event, naming it", () => {
    expect(days(ics(["SUMMARY:Standup", "DTSTART:20261224T090000Z"]))[0]).toBe("event 1 'Standup' is not an all-day event (its DTSTART has a time; use DTSTART;VALUE=DATE:YYYYMMDD)");
  });

  it("refuses a recurrence other than yearly on the event's own date", () => {
    expect(days(ics(["SUMMARY:Thanksgiving", "DTSTART;VALUE=DATE:20261126", "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH"]))[0]).toContain("only FREQ=YEARLY");
    expect(days(ics(["DTSTART;VALUE=DATE:20261126", "RRULE:FREQ=MONTHLY"]))[0]).toContain("only FREQ=YEARLY");
  });

  it("refuses text that is not a calendar, and an event that never ends", () => {
    expect(days("hello")[0]).toContain("not iCalendar");
    expect(days("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261224\r\n")[0]).toContain("no END:VEVENT");
  });

  it("refuses a calendar naming more than ICS_MAX_DAYS days (hostile input stays cheap)", () => {
    const long = Array.from({ length: 14 }, (_, i) => [`DTSTART;VALUE=DATE:${2030 + i}0101`, "DURATION:P365D"]);
    expect(days(ics(...long))[0]).toBe(`the events cover ${14 * 365} days (at most ${ICS_MAX_DAYS})`);
  });

  it("refuses an invalid date and an event ending before it starts", () => {
    expect(days(ics(["DTSTART;VALUE=DATE:20260230"]))[0]).toContain("no valid DTSTART");
    expect(days(ics(["DTSTART;VALUE=DATE:20261224", "DTEND;VALUE=DATE:20261224"]))[0]).toContain("lasts 0 days");
  });
});

describe("yearly events (RRULE:FREQ=YEARLY)", () => {
  const christmas = calendar(ics(["SUMMARY:Christmas", "DTSTART;VALUE=DATE:20201224", "DTEND;VALUE=DATE:20201226", "RRULE:FREQ=YEARLY", "EXDATE;VALUE=DATE:20281224"]));

  it("are kept as a rule, not expanded", () => {
    expect(christmas.dates).toEqual([]);
    expect(christmas.yearly).toHaveLength(1);
  });

  it("apply every year from the first, for the event's length, minus EXDATEs", () => {
    const y = christmas.yearly[0];
    expect(y === undefined ? undefined : { month: y.month, day: y.day, days: y.days, except: y.except.map(formatDay) }).toEqual({ month: 12, day: 24, days: 2, except: ["2028-12-24"] });
  });

  it("COUNT and UNTIL end the recurrence", () => {
    const counted = calendar(ics(["DTSTART;VALUE=DATE:20261224", "RRULE:FREQ=YEARLY;COUNT=2"]));
    const until = calendar(ics(["DTSTART;VALUE=DATE:20261224", "RRULE:FREQ=YEARLY;UNTIL=20271231"]));
    expect([counted.yearly[0]?.count, until.yearly[0]?.untilDay === undefined ? undefined : formatDay(until.yearly[0].untilDay)]).toEqual([2, "2027-12-31"]);
  });
});

describe("exceptions: whole local days in their zone", () => {
  const christmas = { name: "christmas", dates: ["2026-12-24", "2026-12-25"], timezone: "Europe/Berlin", desired: 0 };

  it("holds from local midnight to local midnight (Berlin is UTC+1 in December)", () => {
    expect(exceptionActive(christmas, ms("2026-12-23T22:59:59Z"))).toBe(false);
    expect(exceptionActive(christmas, ms("2026-12-23T23:00:00Z"))).toBe(true);
    expect(exceptionActive(christmas, ms("2026-12-25T22:59:59Z"))).toBe(true);
    expect(exceptionActive(christmas, ms("2026-12-25T23:00:00Z"))).toBe(false);
  });

  it("the next edge is the start of the next date, then the end of the run of consecutive dates", () => {
    expect(nextExceptionEdge(christmas, ms("2026-12-01T00:00:00Z"))).toBe(ms("2026-12-23T23:00:00Z"));
    expect(nextExceptionEdge(christmas, ms("2026-12-24T12:00:00Z"))).toBe(ms("2026-12-25T23:00:00Z"));
    expect(nextExceptionEdge(christmas, ms("2026-12-26T12:00:00Z"))).toBeUndefined();
  });

  it("a yearly iCalendar event applies in later years too, with its EXDATE left out", () => {
    const text = ics(["SUMMARY:Christmas", "DTSTART;VALUE=DATE:20201225", "RRULE:FREQ=YEARLY", "EXDATE;VALUE=DATE:20281225"]);
    const e = { name: "holidays", ics: text, timezone: "UTC", desired: 0 };
    expect(exceptionActive(e, ms("2031-12-25T12:00:00Z"))).toBe(true);
    expect(exceptionActive(e, ms("2028-12-25T12:00:00Z"))).toBe(false);
    expect(exceptionActive(e, ms("2031-12-26T12:00:00Z"))).toBe(false);
    expect(nextExceptionEdge(e, ms("2028-01-01T00:00:00Z"))).toBe(ms("2029-12-25T00:00:00Z"));
  });

  it("a yearly event across the new year covers 1 January of later years", () => {
    const text = ics(["SUMMARY:New Year", "DTSTART;VALUE=DATE:20201231", "DTEND;VALUE=DATE:20210102", "RRULE:FREQ=YEARLY"]);
    const e = { name: "new year", ics: text, timezone: "UTC", desired: 0 };
    expect([exceptionActive(e, ms("2031-01-01T12:00:00Z")), exceptionActive(e, ms("2031-01-02T12:00:00Z"))]).toEqual([true, false]);
  });

  it("listed dates and the calendar's dates add up", () => {
    const e = { name: "both", dates: ["2026-12-31"], ics: ics(["DTSTART;VALUE=DATE:20260101"]), timezone: "UTC", desired: 0 };
    expect([exceptionActive(e, ms("2026-01-01T10:00:00Z")), exceptionActive(e, ms("2026-12-31T10:00:00Z"))]).toEqual([true, true]);
  });

  it("parseDate accepts real dates only", () => {
    expect([parseDate("2028-02-29") !== undefined, parseDate("2026-02-29"), parseDate("2026-1-1")]).toEqual([true, undefined, undefined]);
  });
});
