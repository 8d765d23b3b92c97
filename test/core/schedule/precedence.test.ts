// desiredCount's precedence with windows and exceptions: paused > override > exception > windows > point entries > default, clamped.
import { describe, expect, it } from "vitest";
import { desiredCount } from "../../../src/core/schedule/desired.ts";
import { override, rules } from "../builders.ts";

const BERLIN = "Europe/Berlin";
const base = {
  min: 0,
  max: 20,
  default: 1,
  schedules: [
    { name: "office hours", window: "Mon-Fri 08:00-20:00", timezone: BERLIN, desired: 4 },
    { name: "launch", at: "2026-12-24T09:00:00+01:00", desired: 7 },
  ],
  exceptions: [{ name: "christmas", dates: ["2026-12-24", "2026-12-25"], timezone: BERLIN, desired: 0 }],
};
const r = rules(base);
const XMAS_EVE_NOON = new Date("2026-12-24T11:00:00Z"); // Thursday: window open, launch fired, christmas
const sourceAt = (rr = r, at = XMAS_EVE_NOON, o: Parameters<typeof desiredCount>[1] = undefined) => {
  const d = desiredCount(rr, o, at);
  return [d.value, d.source];
};

describe("precedence: paused > override > exception > windows > point entries > default", () => {
  it("an exception beats an open window and a point entry that fired the same day", () => {
    expect(sourceAt()).toEqual([0, "exception"]);
  });

  it("the exception is named in the reason with its local day and zone", () => {
    expect(desiredCount(r, undefined, XMAS_EVE_NOON).reason).toBe("exception 'christmas' (2026-12-24 Europe/Berlin): desired 0");
  });

  it("an override beats the exception", () => {
    expect(sourceAt(r, XMAS_EVE_NOON, override({ desired: 9, until: "2026-12-24T18:00:00Z" }))).toEqual([9, "override"]);
  });

  it("paused beats everything, still showing what the count would be", () => {
    const paused = rules({ ...base, paused: true });
    const d = desiredCount(paused, override({ desired: 9, until: "2026-12-24T18:00:00Z" }), XMAS_EVE_NOON);
    expect([d.value, d.source]).toEqual([9, "paused"]);
  });

  it("the open window beats a point entry that fired inside it (launch fired at 09:00, inside office hours)", () => {
    const noException = rules({ ...base, exceptions: [] });
    expect(sourceAt(noException)).toEqual([4, "window"]);
  });

  it("when no window is open, the point entry that fired last applies", () => {
    const noException = rules({ ...base, exceptions: [] });
    expect(sourceAt(noException, new Date("2026-12-24T20:00:00Z"))).toEqual([7, "schedule"]);
  });

  it("when nothing else applies, the default", () => {
    expect(sourceAt(r, new Date("2026-12-20T12:00:00Z"))).toEqual([1, "default"]);
  });

  it("after the exception's last day, the layers below come back (Sat 26th: the launch entry)", () => {
    expect(sourceAt(r, new Date("2026-12-26T12:00:00Z"))).toEqual([7, "schedule"]);
  });

  it("overlapping exceptions: the largest desired wins", () => {
    const two = rules({ ...base, exceptions: [...base.exceptions, { name: "sale", dates: ["2026-12-24"], timezone: BERLIN, desired: 12 }] });
    const d = desiredCount(two, undefined, XMAS_EVE_NOON);
    expect([d.value, d.reason.startsWith("exception 'sale'")]).toEqual([12, true]);
  });

  it("an exception's value is clamped to [min, max]", () => {
    const floor = rules({ ...base, min: 2, default: 2 });
    const d = desiredCount(floor, undefined, XMAS_EVE_NOON);
    expect([d.value, d.unclamped, d.source]).toEqual([2, 0, "exception"]);
  });

  it("an exception's days are local to its own zone (Tokyo's 24th ends at 15:00 UTC)", () => {
    const tokyo = rules({ ...base, exceptions: [{ name: "christmas", dates: ["2026-12-24"], timezone: "Asia/Tokyo", desired: 0 }] });
    expect(sourceAt(tokyo, new Date("2026-12-24T14:59:00Z"))[1]).toBe("exception");
    expect(sourceAt(tokyo, new Date("2026-12-24T15:00:00Z"))[1]).not.toBe("exception");
  });
});
