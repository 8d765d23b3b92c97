// occurrences: each rule's next firings, window openings and exception days (with their names), in the rules' own zones.
import { describe, expect, it } from "vitest";
import { GroupRulesSchema } from "../../../src/config/group.ts";
import { ruleOccurrences } from "../../../src/core/schedule/occurrences.ts";

const rules = (extra: Record<string, unknown>) => GroupRulesSchema.parse({ image: "img", flavor: "m1", max: 10, ...extra });
const ICS = [
  "BEGIN:VCALENDAR",
  "BEGIN:VEVENT",
  "DTSTART;VALUE=DATE:20261225",
  "SUMMARY:Christmas Day",
  "RRULE:FREQ=YEARLY",
  "END:VEVENT",
  "BEGIN:VEVENT",
  "DTSTART;VALUE=DATE:20261231",
  "SUMMARY:New Year's Eve",
  "END:VEVENT",
  "END:VCALENDAR",
].join("\r\n");

describe("ruleOccurrences", () => {
  it("lists a cron entry's next firings in its own zone, oldest first", () => {
    const r = rules({ schedules: [{ cron: "0 8 * * 1-5", timezone: "Europe/Berlin", desired: 5 }] });
    // Monday 2026-12-07 09:00 Berlin: the next firings are Tue, Wed, Thu at 08:00 Berlin (07:00 UTC).
    const out = ruleOccurrences(r, new Date("2026-12-07T08:00:00Z"));
    expect(out.schedules).toEqual([{ index: 0, kind: "cron", next: [{ at: "2026-12-08T07:00:00.000Z" }, { at: "2026-12-09T07:00:00.000Z" }, { at: "2026-12-10T07:00:00.000Z" }] }]);
  });

  it("lists a one-shot entry once before it fires and not after", () => {
    const r = rules({ schedules: [{ at: "2026-12-24T18:00+01:00", desired: 1 }] });
    expect(ruleOccurrences(r, new Date("2026-12-07T08:00:00Z")).schedules[0]?.next).toEqual([{ at: "2026-12-24T17:00:00.000Z" }]);
    expect(ruleOccurrences(r, new Date("2026-12-25T08:00:00Z")).schedules[0]?.next).toEqual([]);
  });

  it("starts a window's openings with the one open now, each with its end", () => {
    const r = rules({ schedules: [{ window: "Mon-Fri 08:00-20:00", timezone: "Europe/Berlin", desired: 6 }] });
    const out = ruleOccurrences(r, new Date("2026-12-11T10:00:00Z"), 2); // Friday 11:00 Berlin
    expect(out.schedules[0]).toEqual({
      index: 0,
      kind: "window",
      next: [
        { at: "2026-12-11T07:00:00.000Z", until: "2026-12-11T19:00:00.000Z" },
        { at: "2026-12-14T07:00:00.000Z", until: "2026-12-14T19:00:00.000Z" },
      ],
    });
  });

  it("names an exception's days by their iCalendar summaries, and listed dates by the exception's name", () => {
    const r = rules({ exceptions: [{ name: "holidays", ics: ICS, dates: ["2026-12-28"], timezone: "Europe/Berlin", desired: 0 }] });
    const out = ruleOccurrences(r, new Date("2026-12-07T08:00:00Z"));
    expect(out.exceptions[0]?.next.map((d) => [d.date, d.names])).toEqual([
      ["2026-12-25", ["Christmas Day"]],
      ["2026-12-28", ["holidays"]],
      ["2026-12-31", ["New Year's Eve"]],
    ]);
    expect(out.exceptions[0]?.next[0]).toMatchObject({ from: "2026-12-24T23:00:00.000Z", until: "2026-12-25T23:00:00.000Z" });
  });

  it("names a day covered by a timed event after that event, in the exception's zone", () => {
    const ics = ["BEGIN:VCALENDAR", "BEGIN:VEVENT", "UID:p1", "DTSTART:20261218T230000Z", "DTEND:20261219T010000Z", "SUMMARY:Office party", "END:VEVENT", "END:VCALENDAR"].join("\r\n");
    const r = rules({ exceptions: [{ name: "events", ics, timezone: "Europe/Berlin", desired: 0 }] });
    // 23:00-01:00 UTC is 00:00-02:00 on the 19th in Berlin: one local day.
    expect(ruleOccurrences(r, new Date("2026-12-07T08:00:00Z")).exceptions[0]?.next.map((d) => [d.date, d.names])).toEqual([["2026-12-19", ["Office party"]]]);
  });

  it("counts today when it is one of the exception's days (a holiday in progress)", () => {
    const r = rules({ exceptions: [{ name: "closed", dates: ["2026-12-07"], timezone: "UTC", desired: 0 }] });
    expect(ruleOccurrences(r, new Date("2026-12-07T15:00:00Z")).exceptions[0]?.next.map((d) => d.date)).toEqual(["2026-12-07"]);
  });

  it("finds a yearly holiday's next year when this year's is past", () => {
    const r = rules({ exceptions: [{ name: "holidays", ics: ICS, timezone: "UTC", desired: 0 }] });
    expect(ruleOccurrences(r, new Date("2027-01-05T00:00:00Z"), 1).exceptions[0]?.next.map((d) => [d.date, d.names])).toEqual([["2027-12-25", ["Christmas Day"]]]);
  });
});
