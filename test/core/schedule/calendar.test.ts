// Exception calendars: iCalendar parsing (folding, all-day and timed events, recurrence) and whole local days.
import { describe, expect, it } from "vitest";
import { exceptionActive, isCalendarDay, nextExceptionEdge, parseDate } from "../../../src/core/schedule/calendar.ts";
import { ICS_MAX_DAYS_PER_EVENT, parseIcs, type CalendarDays } from "../../../src/core/schedule/ics.ts";
import { dayNumber, formatDay } from "../../../src/core/schedule/zoned.ts";

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

  it("refuses text that is not a calendar, and an event that never ends", () => {
    expect(days("hello")[0]).toContain("not iCalendar");
    expect(days("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261224\r\n")[0]).toContain("not readable iCalendar");
  });

  it("refuses an invalid DTSTART date, naming the event", () => {
    expect(days(ics(["SUMMARY:Nowhere", "DTSTART;VALUE=DATE:20260230"]))[0]).toBe("event 1 'Nowhere' has no valid DTSTART");
  });

  it("an all-day event whose DTEND equals its DTSTART is one day (Argentina's calendar has them)", () => {
    expect(days(ics(["DTSTART;VALUE=DATE:20261224", "DTEND;VALUE=DATE:20261224"]))).toEqual(["2026-12-24"]);
  });

  it("a malformed DTEND is read as absent: the event's first day", () => {
    expect(days(ics(["DTSTART;VALUE=DATE:20260929", "DTEND;VALUE=DATE:2026930"]))).toEqual(["2026-09-29"]);
  });

  it("refuses an occurrence longer than ICS_MAX_DAYS_PER_EVENT days (every lookup would scan it)", () => {
    expect(days(ics(["SUMMARY:Forever", "DTSTART;VALUE=DATE:20260101", "DTEND;VALUE=DATE:20280101"]))[0]).toBe(`event 1 'Forever' lasts more than ${ICS_MAX_DAYS_PER_EVENT} days`);
  });

  it("refuses sub-daily recurrences, naming the alternative", () => {
    expect(days(ics(["SUMMARY:Ping", "DTSTART:20260101T000000Z", "RRULE:FREQ=MINUTELY"]))[0]).toContain("use FREQ=DAILY");
  });

  it("several VCALENDARs one after the other are all read (Ireland's calendar is written so)", () => {
    const two = ics(["DTSTART;VALUE=DATE:20260101"]) + ics(["DTSTART;VALUE=DATE:20260317"]);
    expect(days(two)).toEqual(["2026-01-01", "2026-03-17"]);
  });
});

/** The local days, in `zone`, that a calendar covers in 2026-2028. */
function daysIn(text: string, zone = "UTC"): string[] {
  const cal = calendar(text);
  const out: string[] = [];
  for (let d = dayNumber(2026, 1, 1); d <= dayNumber(2028, 12, 31); d += 1) if (isCalendarDay(cal, d, zone)) out.push(formatDay(d));
  return out;
}

describe("timed events: the local days they cover, in the exception's zone", () => {
  it("a timed event covers the day it happens on", () => {
    expect(daysIn(ics(["DTSTART:20261224T090000Z", "DTEND:20261224T100000Z"]))).toEqual(["2026-12-24"]);
  });

  it("a UTC time counts for the local day in the exception's zone (23:30Z is the next day in Berlin)", () => {
    const late = ics(["DTSTART:20261224T233000Z", "DTEND:20261224T234500Z"]);
    expect([daysIn(late, "UTC"), daysIn(late, "Europe/Berlin")]).toEqual([["2026-12-24"], ["2026-12-25"]]);
  });

  it("an event across midnight covers both days; one ending at midnight does not cover the next", () => {
    expect(daysIn(ics(["DTSTART:20261224T220000", "DTEND:20261225T020000"]))).toEqual(["2026-12-24", "2026-12-25"]);
    expect(daysIn(ics(["DTSTART:20261224T000000", "DTEND:20261225T000000"]))).toEqual(["2026-12-24"]);
  });

  it("an event that ends where it starts covers its start day", () => {
    expect(daysIn(ics(["DTSTART:20261224T120000Z", "DTEND:20261224T120000Z"]))).toEqual(["2026-12-24"]);
  });

  it("a TZID is that zone, also behind Mozilla's /mozilla.org/.../ prefix", () => {
    // 00:30 in Tokyo on the 25th is 15:30Z on the 24th.
    const tokyo = ics(["DTSTART;TZID=/mozilla.org/20070129_1/Asia/Tokyo:20261225T003000", "DTEND;TZID=/mozilla.org/20070129_1/Asia/Tokyo:20261225T010000"]);
    expect(daysIn(tokyo, "UTC")).toEqual(["2026-12-24"]);
  });

  it("floating times (no TZID, no Z) are read in the exception's zone", () => {
    const floating = ics(["DTSTART:20261224T003000", "DTEND:20261224T010000"]);
    expect([daysIn(floating, "UTC"), daysIn(floating, "Pacific/Auckland")]).toEqual([["2026-12-24"], ["2026-12-24"]]);
  });
});

describe("recurrence (RRULE, RDATE, EXDATE, RECURRENCE-ID)", () => {
  it("FREQ=YEARLY on the event's own date recurs every year, with its EXDATE left out", () => {
    const text = ics(["DTSTART;VALUE=DATE:20201225", "RRULE:FREQ=YEARLY", "EXDATE;VALUE=DATE:20271225"]);
    expect(daysIn(text)).toEqual(["2026-12-25", "2028-12-25"]);
  });

  it("COUNT and UNTIL end the recurrence", () => {
    expect(daysIn(ics(["DTSTART;VALUE=DATE:20261224", "RRULE:FREQ=YEARLY;COUNT=2"]))).toEqual(["2026-12-24", "2027-12-24"]);
    expect(daysIn(ics(["DTSTART;VALUE=DATE:20261224", "RRULE:FREQ=YEARLY;UNTIL=20271231"]))).toEqual(["2026-12-24", "2027-12-24"]);
  });

  it("'fourth Thursday of November' (BYDAY=4TH)", () => {
    const thanksgiving = ics(["SUMMARY:Thanksgiving", "DTSTART;VALUE=DATE:20201126", "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH"]);
    expect(daysIn(thanksgiving)).toEqual(["2026-11-26", "2027-11-25", "2028-11-23"]);
  });

  it("a BYMONTHDAY list with BYDAY: Sweden's Midsummer Eve is the Friday between 19 and 25 June", () => {
    const midsummer = ics(["DTSTART;VALUE=DATE:20100625", "RRULE:FREQ=YEARLY;BYDAY=FR;BYMONTHDAY=19,20,21,22,23,24,25;BYMONTH=6"]);
    expect(daysIn(midsummer)).toEqual(["2026-06-19", "2027-06-25", "2028-06-23"]);
  });

  it("BYSETPOS: the last weekday of May", () => {
    const last = ics(["DTSTART;VALUE=DATE:20200529", "RRULE:FREQ=MONTHLY;BYMONTH=5;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"]);
    expect(daysIn(last)).toEqual(["2026-05-29", "2027-05-31", "2028-05-31"]);
  });

  it("RDATE adds dates to the event", () => {
    expect(daysIn(ics(["DTSTART;VALUE=DATE:20260101", "RDATE;VALUE=DATE:20270105,20280303"]))).toEqual(["2026-01-01", "2027-01-05", "2028-03-03"]);
  });

  it("a RECURRENCE-ID override moves one occurrence (a substitute holiday), for its own UID only", () => {
    const text = ics(
      ["UID:newyear", "DTSTART;VALUE=DATE:20260101", "RRULE:FREQ=YEARLY;COUNT=3"],
      ["UID:newyear", "RECURRENCE-ID;VALUE=DATE:20270101", "DTSTART;VALUE=DATE:20270104"],
      ["UID:other", "DTSTART;VALUE=DATE:20260601", "RRULE:FREQ=YEARLY;COUNT=1"],
    );
    expect(daysIn(text)).toEqual(["2026-01-01", "2026-06-01", "2027-01-04", "2028-01-01"]);
  });

  it("a cancelled override removes its occurrence", () => {
    const text = ics(["UID:x", "DTSTART;VALUE=DATE:20260101", "RRULE:FREQ=YEARLY;COUNT=3"], ["UID:x", "RECURRENCE-ID;VALUE=DATE:20270101", "DTSTART;VALUE=DATE:20270101", "STATUS:CANCELLED"]);
    expect(daysIn(text)).toEqual(["2026-01-01", "2028-01-01"]);
  });

  it("a date-time EXDATE on an all-day event removes that date (Namibia's calendar writes them so)", () => {
    expect(daysIn(ics(["DTSTART;VALUE=DATE:20260504", "RRULE:FREQ=YEARLY;COUNT=3", "EXDATE:20270504T000000"]))).toEqual(["2026-05-04", "2028-05-04"]);
  });

  it("an RRULE ical.js cannot read (Estonia's BYMONTH=16) leaves the event's own date", () => {
    expect(daysIn(ics(["DTSTART;VALUE=DATE:20261116", "RRULE:FREQ=YEARLY;COUNT=5;BYMONTHDAY=11;BYMONTH=16"]))).toEqual(["2026-11-16"]);
  });

  it("a weekly event is every week (Basque calendars mark Sundays)", () => {
    expect(daysIn(ics(["DTSTART;VALUE=DATE:20261206", "RRULE:FREQ=WEEKLY;UNTIL=20261231"]))).toEqual(["2026-12-06", "2026-12-13", "2026-12-20", "2026-12-27"]);
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
