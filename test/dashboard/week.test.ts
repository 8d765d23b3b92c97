// The week view's grid: local days and hours in the group's zone (DST days included), each cell the value in force at the hour's start.
import { describe, expect, it } from "vitest";
import { localDateHour, valueAt, weekGrid } from "../../dashboard/src/week-grid.ts";

const point = (at: string, value: number) => ({ at, value, reason: `r${value}`, source: "schedule" });

describe("weekGrid", () => {
  it("has 7 local days of 24 hours starting with the current day, hours already past left empty", () => {
    const from = Date.parse("2026-12-07T10:30:00Z"); // 11:30 in Berlin
    const grid = weekGrid([point("2026-12-07T10:30:00Z", 2)], from, "Europe/Berlin");
    expect(grid.days).toEqual(["2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11", "2026-12-12", "2026-12-13"]);
    expect(grid.cells[0]?.slice(0, 11).every((c) => c === undefined)).toBe(true);
    expect(grid.cells[0]?.[11]?.value).toBe(2);
    expect(grid.cells[6]?.[9]?.value).toBe(2);
  });

  it("puts a change at the local hour it happens in the group's zone", () => {
    const from = Date.parse("2026-12-07T00:00:00Z");
    // 07:00 UTC is 08:00 in Berlin.
    const grid = weekGrid([point("2026-12-07T00:00:00Z", 1), point("2026-12-08T07:00:00Z", 5)], from, "Europe/Berlin");
    const tuesday = grid.cells[grid.days.indexOf("2026-12-08")];
    expect([tuesday?.[7]?.value, tuesday?.[8]?.value]).toEqual([1, 5]);
  });

  it("on a spring-forward day the missing local hour stays empty and the others are filled", () => {
    const from = Date.parse("2027-03-27T23:00:00Z"); // midnight of Sunday 28 March in Berlin
    const grid = weekGrid([point("2027-03-27T00:00:00Z", 3)], from, "Europe/Berlin");
    const sunday = grid.cells[0];
    expect(grid.days[0]).toBe("2027-03-28");
    expect(sunday?.[2]).toBeUndefined();
    expect([sunday?.[1]?.value, sunday?.[3]?.value]).toEqual([3, 3]);
  });
});

describe("valueAt and localDateHour", () => {
  it("answers the last change point at or before the instant", () => {
    const points = [point("2026-12-07T00:00:00Z", 1), point("2026-12-07T08:00:00Z", 4)];
    expect(valueAt(points, Date.parse("2026-12-07T07:59:59Z"))?.value).toBe(1);
    expect(valueAt(points, Date.parse("2026-12-07T08:00:00Z"))?.value).toBe(4);
    expect(valueAt(points, Date.parse("2026-12-06T23:00:00Z"))).toBeUndefined();
  });

  it("reads the local date and hour in a zone west of UTC", () => {
    expect(localDateHour(Date.parse("2026-12-07T03:00:00Z"), "America/New_York")).toEqual({ date: "2026-12-06", hour: 22 });
  });
});

describe("weekGrid of a truncated timeline", () => {
  it("marks the hours after `through` unknown instead of stretching the last value over them", () => {
    const from = Date.parse("2026-12-07T00:00:00Z");
    const grid = weekGrid([point("2026-12-07T00:00:00Z", 5)], from, "UTC", 168, Date.parse("2026-12-08T12:00:00Z"));
    expect(grid.cells[1]?.[12]?.unknown).toBeUndefined();
    expect(grid.cells[1]?.[13]?.unknown).toBe(true);
    expect(grid.cells[6]?.[23]?.unknown).toBe(true);
  });
});
