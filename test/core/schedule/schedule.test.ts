// Schedule firings: latest firing <= now, next firings, one-shots, and DST in three zones (croner, Vixie-style).
import { describe, expect, it } from "vitest";
import { cronProblem, firingsContained, formatInZone, latestCronFiring, latestFiring, nextFirings, MAX_FIRINGS_PER_CALL } from "../../../src/core/schedule/schedule.ts";
import { iso } from "../builders.ts";

const at = (s: string): Date => new Date(s);
const cron = (pattern: string, timezone: string) => ({ cron: pattern, timezone, desired: 1 });

describe("latestFiring of a cron entry", () => {
  it("is the most recent firing before now, in the entry's own zone", () => {
    // 08:00 in Berlin (CET, +01:00) is 07:00 UTC.
    expect(iso(latestFiring(cron("0 8 * * *", "Europe/Berlin"), at("2026-11-26T12:00:00Z")))).toBe("2026-11-26T07:00:00.000Z");
  });

  it("includes a firing exactly at now", () => {
    expect(iso(latestCronFiring("0 8 * * *", "Europe/Berlin", at("2026-11-26T07:00:00Z")))).toBe("2026-11-26T07:00:00.000Z");
  });

  it("excludes a firing one millisecond after now", () => {
    expect(iso(latestCronFiring("0 8 * * *", "Europe/Berlin", at("2026-11-26T06:59:59.999Z")))).toBe("2026-11-25T07:00:00.000Z");
  });

  it("finds a weekday entry's Friday firing on a Sunday", () => {
    // 2026-11-29 is a Sunday; the last 08:00 Mon-Fri was Friday 2026-11-27.
    expect(iso(latestCronFiring("0 8 * * 1-5", "Europe/Berlin", at("2026-11-29T12:00:00Z")))).toBe("2026-11-27T07:00:00.000Z");
  });

  it("searches back across a year for a yearly entry", () => {
    expect(iso(latestCronFiring("0 0 1 1 *", "UTC", at("2026-12-31T23:00:00Z")))).toBe("2026-01-01T00:00:00.000Z");
  });

  it("finds a leap-day entry years back", () => {
    expect(iso(latestCronFiring("0 8 29 2 *", "UTC", at("2026-11-26T00:00:00Z")))).toBe("2024-02-29T08:00:00.000Z");
  });

  it("finds a fifth-Friday entry months back", () => {
    // The last month with five Fridays before 26 Nov 2026 was October (the 30th).
    expect(iso(latestCronFiring("0 0 * * 5#5", "Europe/Berlin", at("2026-11-26T00:00:00Z")))).toBe("2026-10-29T23:00:00.000Z");
  });
});

describe("latestFiring of a one-shot entry", () => {
  const launch = { at: "2026-12-24T18:00:00+01:00", desired: 15 };

  it("is undefined before its instant", () => {
    expect(latestFiring(launch, at("2026-12-24T16:59:59Z"))).toBeUndefined();
  });

  it("is its instant from then on", () => {
    expect(iso(latestFiring(launch, at("2026-12-24T17:00:00Z")))).toBe("2026-12-24T17:00:00.000Z");
    expect(iso(latestFiring(launch, at("2027-03-01T00:00:00Z")))).toBe("2026-12-24T17:00:00.000Z");
  });
});

describe("nextFirings", () => {
  it("lists the firings in (after, until], oldest first", () => {
    const firings = nextFirings(cron("0 8 * * *", "UTC"), at("2026-11-26T08:00:00Z"), at("2026-11-28T08:00:00Z"));
    expect(firings.map(iso)).toEqual(["2026-11-27T08:00:00.000Z", "2026-11-28T08:00:00.000Z"]);
  });

  it("lists a one-shot only inside the window", () => {
    const launch = { at: "2026-12-24T18:00:00+01:00", desired: 15 };
    expect(nextFirings(launch, at("2026-12-24T00:00:00Z"), at("2026-12-25T00:00:00Z")).map(iso)).toEqual(["2026-12-24T17:00:00.000Z"]);
    expect(nextFirings(launch, at("2026-12-24T17:00:00Z"), at("2026-12-25T00:00:00Z"))).toEqual([]);
  });

  it("returns at most MAX_FIRINGS_PER_CALL firings", () => {
    const firings = nextFirings(cron("* * * * *", "UTC"), at("2026-11-01T00:00:00Z"), at("2026-11-08T00:00:00Z"));
    expect(firings).toHaveLength(MAX_FIRINGS_PER_CALL);
  });
});

/*
 * DST transitions pinned here (2026):
 *   Europe/Berlin     spring forward 29 Mar 02:00 CET -> 03:00 CEST; fall back 25 Oct 03:00 CEST -> 02:00 CET
 *   America/New_York  spring forward  8 Mar 02:00 EST -> 03:00 EDT; fall back  1 Nov 02:00 EDT -> 01:00 EST
 *   Australia/Sydney  spring forward  4 Oct 02:00 AEST -> 03:00 AEDT; fall back 5 Apr 03:00 AEDT -> 02:00 AEST
 */
describe("DST: a local time that does not exist (spring forward) fires at the next valid instant", () => {
  const cases = [
    { zone: "Europe/Berlin", pattern: "30 2 * * *", day: ["2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z"], expected: "2026-03-29T01:00:00.000Z", local: "2026-03-29T03:00+02:00" },
    { zone: "America/New_York", pattern: "30 2 * * *", day: ["2026-03-07T12:00:00Z", "2026-03-08T12:00:00Z"], expected: "2026-03-08T07:00:00.000Z", local: "2026-03-08T03:00-04:00" },
    { zone: "Australia/Sydney", pattern: "30 2 * * *", day: ["2026-10-03T00:00:00Z", "2026-10-04T00:00:00Z"], expected: "2026-10-03T16:00:00.000Z", local: "2026-10-04T03:00+11:00" },
  ];
  for (const c of cases) {
    it(`02:30 in ${c.zone} fires at 03:00 on the spring-forward night`, () => {
      const firings = nextFirings(cron(c.pattern, c.zone), at(c.day[0]!), at(c.day[1]!));
      expect(firings.map(iso)).toEqual([c.expected]);
      expect(formatInZone(firings[0]!, c.zone)).toBe(c.local);
    });
  }

  it("the gap's firing is also the latest firing seen right after it (Berlin)", () => {
    expect(iso(latestCronFiring("30 2 * * *", "Europe/Berlin", at("2026-03-29T01:00:30Z")))).toBe("2026-03-29T01:00:00.000Z");
  });

  it("a list of fixed times (30 2,14 * * *) still fires in the gap (Vixie: not a wildcard job)", () => {
    const firings = nextFirings(cron("30 2,14 * * *", "Europe/Berlin"), at("2026-03-28T23:00:00Z"), at("2026-03-29T23:00:00Z"));
    expect(firings.map(iso)).toEqual(["2026-03-29T01:00:00.000Z", "2026-03-29T12:30:00.000Z"]);
  });

  it("a wildcard entry (every 30 minutes) skips the times the gap removes", () => {
    const firings = nextFirings(cron("*/30 * * * *", "Europe/Berlin"), at("2026-03-29T00:00:00Z"), at("2026-03-29T01:00:00Z"));
    // 01:30 CET (00:30Z) then 03:00 CEST (01:00Z): no 02:00 or 02:30.
    expect(firings.map(iso)).toEqual(["2026-03-29T00:30:00.000Z", "2026-03-29T01:00:00.000Z"]);
  });
});

describe("DST: a local time that happens twice (fall back) fires once", () => {
  const cases = [
    { zone: "Europe/Berlin", pattern: "30 2 * * *", from: "2026-10-24T12:00:00Z", to: "2026-10-25T12:00:00Z", expected: "2026-10-25T00:30:00.000Z", local: "2026-10-25T02:30+02:00" },
    { zone: "America/New_York", pattern: "30 1 * * *", from: "2026-10-31T12:00:00Z", to: "2026-11-01T12:00:00Z", expected: "2026-11-01T05:30:00.000Z", local: "2026-11-01T01:30-04:00" },
    { zone: "Australia/Sydney", pattern: "30 2 * * *", from: "2026-04-04T00:00:00Z", to: "2026-04-05T00:00:00Z", expected: "2026-04-04T15:30:00.000Z", local: "2026-04-05T02:30+11:00" },
  ];
  for (const c of cases) {
    it(`the repeated ${c.pattern.split(" ").slice(0, 2).reverse().join(":")} in ${c.zone} fires once, at its first occurrence`, () => {
      const firings = nextFirings(cron(c.pattern, c.zone), at(c.from), at(c.to));
      expect(firings.map(iso)).toEqual([c.expected]);
      expect(formatInZone(firings[0]!, c.zone)).toBe(c.local);
    });
  }

  it("the latest firing during the second pass of the hour is still the first occurrence (Berlin)", () => {
    // 01:45Z is 02:45 CET, after the second 02:30; there was no second firing.
    expect(iso(latestCronFiring("30 2 * * *", "Europe/Berlin", at("2026-10-25T01:45:00Z")))).toBe("2026-10-25T00:30:00.000Z");
  });

  it("a wildcard entry (every 30 minutes) fires on both passes of the repeated hour", () => {
    const firings = nextFirings(cron("*/30 * * * *", "Europe/Berlin"), at("2026-10-24T23:59:00Z"), at("2026-10-25T01:30:00Z"));
    // 02:00 and 02:30 CEST, then 02:00 and 02:30 CET.
    expect(firings.map(iso)).toEqual(["2026-10-25T00:00:00.000Z", "2026-10-25T00:30:00.000Z", "2026-10-25T01:00:00.000Z", "2026-10-25T01:30:00.000Z"]);
  });
});

describe("formatInZone", () => {
  it("writes local time with the zone's offset, seconds only when not zero", () => {
    expect(formatInZone(at("2026-11-26T07:00:00Z"), "Europe/Berlin")).toBe("2026-11-26T08:00+01:00");
    expect(formatInZone(at("2026-11-26T07:00:05Z"), "America/St_Johns")).toBe("2026-11-26T03:30:05-03:30");
  });
});

/** The local dates (UTC) on which a pattern fires in December 2026. */
const decemberDays = (pattern: string): number[] =>
  nextFirings(cron(pattern, "UTC"), at("2026-11-30T23:59:00Z"), at("2026-12-31T23:59:00Z")).map((d) => d.getUTCDate());

describe("cron dialect: Vixie's day-of-month / day-of-week rule", () => {
  it("ANDs the two when day-of-month starts with '*': 0 0 */2 * 1 = Mondays that are odd days", () => {
    // December 2026: Mondays are 7, 14, 21, 28; the odd ones 7 and 21.
    expect(decemberDays("0 0 */2 * 1")).toEqual([7, 21]);
  });

  it("ANDs the two when day-of-week starts with '*': 0 0 1-5 * */2 = days 1-5 that are Sun, Tue, Thu or Sat", () => {
    // 1 Dec 2026 is a Tuesday: 1 Tue, 2 Wed, 3 Thu, 4 Fri, 5 Sat.
    expect(decemberDays("0 0 1-5 * */2")).toEqual([1, 3, 5]);
  });

  it("ORs the two only when both are restricted: 0 0 1 * 1 = the 1st and every Monday", () => {
    expect(decemberDays("0 0 1 * 1")).toEqual([1, 7, 14, 21, 28]);
  });

  it("a plain '*' leaves the other field alone: 0 0 * * 1 = Mondays, 0 0 1 * * = the 1st", () => {
    expect(decemberDays("0 0 * * 1")).toEqual([7, 14, 21, 28]);
    expect(decemberDays("0 0 1 * *")).toEqual([1]);
  });

  it("'?' counts as '*' (Quartz's 'no specific value'): 0 0 ? * 1 = Mondays", () => {
    expect(decemberDays("0 0 ? * 1")).toEqual([7, 14, 21, 28]);
  });

  // December 2026: Fridays 4 11 18 25, Saturdays 5 12 19 26, Sundays 6 13 20 27, Mondays 7 14 21 28.
  it.each([["0 0 * * Fri-Mon"], ["0 0 * * fri-mon"], ["0 0 * * 5-1"], ["0 0 * * FRI-SUN,MON"]])(
    "a day-of-week range that wraps the week is read as cronie reads it, Fri, Sat, Sun, Mon: %s",
    (pattern) => {
      expect(decemberDays(pattern)).toEqual([4, 5, 6, 7, 11, 12, 13, 14, 18, 19, 20, 21, 25, 26, 27, 28]);
    },
  );

  it("a wrapping range may end on Sunday as 0: 0 0 * * mon-0 is Mon to Sun, every day", () => {
    expect(decemberDays("0 0 * * mon-0")).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
  });

  it("a step on a range that wraps the week is refused, naming the list to write instead", () => {
    expect(cronProblem("0 0 * * Fri-Mon/2", "UTC", at("2026-12-01T00:00:00Z"))).toContain("FRI-SAT,SUN-MON");
  });

  it("@weekly is Sunday midnight, as in Vixie", () => {
    expect(decemberDays("@weekly")).toEqual([6, 13, 20, 27]);
  });

  it("the extensions: L (last day), 15W (weekday nearest the 15th), 1#1 (first Monday), 5L (last Friday)", () => {
    expect(decemberDays("0 0 L * *")).toEqual([31]);
    expect(decemberDays("0 0 13W * *")).toEqual([14]); // the 13th is a Sunday
    expect(decemberDays("0 0 * * 1#1")).toEqual([7]);
    expect(decemberDays("0 0 * * 5L")).toEqual([25]);
  });
});

describe("firingsContained (the timeline drops entries that can never decide)", () => {
  it("an identical pattern in the same zone is contained", () => {
    expect(firingsContained(cron("* * * * *", "UTC"), cron("* * * * *", "UTC"))).toBe(true);
  });

  it("an hourly entry is contained in a minutely one", () => {
    expect(firingsContained(cron("0 * * * *", "UTC"), cron("* * * * *", "UTC"))).toBe(true);
  });

  it("not across zones, nor across DST classes (a fixed time fires once in a repeated hour, a wildcard twice)", () => {
    expect(firingsContained(cron("0 * * * *", "UTC"), cron("* * * * *", "Europe/Berlin"))).toBe(false);
    expect(firingsContained(cron("0 8 * * *", "Europe/Berlin"), cron("0 * * * *", "Europe/Berlin"))).toBe(false);
  });

  it("not when the outer entry restricts days differently", () => {
    expect(firingsContained(cron("0 8 * * *", "UTC"), cron("0 8 * * 1-5", "UTC"))).toBe(false);
    expect(firingsContained(cron("0 8 * * 1-5", "UTC"), cron("0 8,9 * * 1-5", "UTC"))).toBe(true);
  });

  it("a one-shot is contained when the cron entry fires at its instant", () => {
    expect(firingsContained({ at: "2026-12-24T08:00:00Z", desired: 1 }, cron("0 * * * *", "UTC"))).toBe(true);
    expect(firingsContained({ at: "2026-12-24T08:30:00Z", desired: 1 }, cron("0 * * * *", "UTC"))).toBe(false);
  });
});
