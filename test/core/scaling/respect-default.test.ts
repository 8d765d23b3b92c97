// manualChanges "respect" when the default (or min) decides, or a point entry decides again after a window or exception (issue 24 item 9).
import { describe, expect, it } from "vitest";
import { PARK_KEY } from "../../../src/core/model/membership.ts";
import { formatParkMark } from "../../../src/core/scaling/parking.ts";
import { plan } from "../../../src/core/scaling/plan.ts";
import { desiredCount } from "../../../src/core/schedule/desired.ts";
import type { GroupRulesInput } from "../../../src/config/group.ts";
import { group, server } from "../builders.ts";

/*
 * The rule: a server novascale parked and someone then started by hand stays up while the decision that
 * was in force when it was parked still holds, whichever layer made it: an override, an exception, a
 * window, a point entry, the default or min. The decision changes (and the respect ends) when another
 * layer or entry takes over: an entry fires, a window opens or closes, an exception day begins or ends.
 * So "the default decides" is a decision like the others, which begins when the layer above it last
 * stopped applying; never a "since forever" that keeps a server up for good.
 *
 * Each row: the rules, when the server was parked (the park mark), when the plan runs, and whether it
 * is parked again. The desired count comes from the real desiredCount, the steps from the real plan.
 * 2026-11-26 is a Thursday; every zone is UTC so the instants read plainly.
 */
const base: Partial<GroupRulesInput> = { scaleIn: { action: "stop" }, manualChanges: "respect", max: 5 };
const officeHours = { window: "Mon-Fri 08:00-20:00", timezone: "UTC", desired: 3 };

interface Row {
  name: string;
  rules: Partial<GroupRulesInput>;
  parkedAt: string;
  at: string;
  parkedAgain: boolean;
}

const rows: Row[] = [
  {
    name: "the default decides and nothing has changed since the park: respected",
    rules: { default: 0, schedules: [{ at: "2026-12-01T09:00:00Z", desired: 4 }] },
    parkedAt: "2026-11-26T10:00:00Z",
    at: "2026-11-26T12:00:00Z",
    parkedAgain: false,
  },
  {
    name: "min decides (no default, no entry fired): respected",
    rules: { min: 0, schedules: [{ at: "2026-12-01T09:00:00Z", desired: 4 }] },
    parkedAt: "2026-11-26T10:00:00Z",
    at: "2026-11-26T12:00:00Z",
    parkedAgain: false,
  },
  {
    name: "a one-shot entry fired after the park (same value as the default): the respect ends",
    rules: { default: 0, schedules: [{ at: "2026-11-26T11:00:00Z", desired: 0 }] },
    parkedAt: "2026-11-26T10:00:00Z",
    at: "2026-11-26T12:00:00Z",
    parkedAgain: true,
  },
  {
    name: "a cron entry fired after the park: the respect ends",
    rules: { default: 0, schedules: [{ cron: "30 11 * * *", timezone: "UTC", desired: 0 }] },
    parkedAt: "2026-11-26T10:00:00Z",
    at: "2026-11-26T12:00:00Z",
    parkedAgain: true,
  },
  {
    name: "the default took over when the window closed, parked at the close: respected that evening",
    rules: { default: 0, schedules: [officeHours] },
    parkedAt: "2026-11-26T20:01:00Z",
    at: "2026-11-26T23:00:00Z",
    parkedAgain: false,
  },
  {
    name: "the default again after the window opened and closed the next day: the respect ends",
    rules: { default: 0, schedules: [officeHours] },
    parkedAt: "2026-11-26T20:01:00Z",
    at: "2026-11-27T21:00:00Z",
    parkedAgain: true,
  },
  {
    name: "min again after the window opened and closed: the respect ends",
    rules: { min: 0, schedules: [officeHours] },
    parkedAt: "2026-11-26T20:01:00Z",
    at: "2026-11-27T21:00:00Z",
    parkedAgain: true,
  },
  {
    name: "the default again after an exception day ended: the respect ends",
    rules: { default: 0, exceptions: [{ name: "friday", dates: ["2026-11-27"], timezone: "UTC", desired: 3 }] },
    parkedAt: "2026-11-26T20:01:00Z",
    at: "2026-11-28T12:00:00Z",
    parkedAgain: true,
  },
  {
    name: "the default during the exception-free days before the exception: respected",
    rules: { default: 0, exceptions: [{ name: "friday", dates: ["2026-11-27"], timezone: "UTC", desired: 3 }] },
    parkedAt: "2026-11-26T10:00:00Z",
    at: "2026-11-26T23:00:00Z",
    parkedAgain: false,
  },
  {
    name: "a weekly entry that fired before the park decides again after a window closed: the respect ends",
    rules: { schedules: [{ cron: "0 6 * * 1", timezone: "UTC", desired: 0 }, officeHours] },
    parkedAt: "2026-11-26T20:01:00Z",
    at: "2026-11-27T21:00:00Z",
    parkedAgain: true,
  },
  {
    name: "that weekly entry on the evening of the park: respected",
    rules: { schedules: [{ cron: "0 6 * * 1", timezone: "UTC", desired: 0 }, officeHours] },
    parkedAt: "2026-11-26T20:01:00Z",
    at: "2026-11-26T23:00:00Z",
    parkedAgain: false,
  },
];

describe("manualChanges respect: the default layer is a decision like the others", () => {
  for (const row of rows) {
    it(row.name, () => {
      const at = new Date(row.at);
      const g = group({ ...base, ...row.rules });
      const d = desiredCount(g.rules, undefined, at);
      expect(d.value).toBe(0);
      // The one member: novascale parked it, then the operator started it by hand. Desired is 0.
      const members = [server({ now: at, ageMin: 300, metadata: { [PARK_KEY]: formatParkMark(new Date(row.parkedAt)) } })];
      const woken = members[0]?.id;
      const r = plan({ group: g, desired: d, now: at, listingComplete: true, members });
      const parked = r.steps.flatMap((s) => (s.kind === "park" ? [s.serverId] : []));
      if (row.parkedAgain) {
        expect(parked).toEqual([woken]);
      } else {
        expect(parked).toEqual([]);
        expect(r.steps.filter((s) => s.kind === "delete")).toEqual([]);
        expect(r.notices.find((n) => n.code === "scale-in-blocked")?.message).toContain("manualChanges respect");
      }
    });
  }

  it("under enforce, the same hand-started server is parked again at once when the default decides", () => {
    const at = new Date("2026-11-26T12:00:00Z");
    const g = group({ ...base, manualChanges: "enforce", default: 0 });
    const members = [server({ now: at, ageMin: 300, metadata: { [PARK_KEY]: formatParkMark(new Date("2026-11-26T10:00:00Z")) } })];
    const r = plan({ group: g, desired: desiredCount(g.rules, undefined, at), now: at, listingComplete: true, members });
    expect(r.steps.flatMap((s) => (s.kind === "park" ? [s.serverId] : []))).toEqual([members[0]?.id]);
  });
});

describe("desired.since for the default and point layers: when the layer above last stopped applying", () => {
  it("the default with no window, exception or entry ever applying has no since", () => {
    const g = group({ ...base, default: 0 });
    expect(desiredCount(g.rules, undefined, new Date("2026-11-26T12:00:00Z")).since).toBeUndefined();
  });

  it("the default after a window: the window's last close", () => {
    const g = group({ ...base, default: 0, schedules: [officeHours] });
    expect(desiredCount(g.rules, undefined, new Date("2026-11-28T12:00:00Z")).since).toBe("2026-11-27T20:00:00.000Z");
  });

  it("the default after an exception: the local midnight that ended its last day", () => {
    const g = group({ ...base, default: 0, exceptions: [{ name: "x", dates: ["2026-11-20", "2026-11-27"], timezone: "Europe/Berlin", desired: 3 }] });
    expect(desiredCount(g.rules, undefined, new Date("2026-11-30T12:00:00Z")).since).toBe("2026-11-27T23:00:00.000Z");
  });

  it("a point entry: the later of its firing and the last close above it", () => {
    const g = group({ ...base, schedules: [{ cron: "0 6 * * 1", timezone: "UTC", desired: 0 }, officeHours] });
    expect(desiredCount(g.rules, undefined, new Date("2026-11-27T21:00:00Z")).since).toBe("2026-11-27T20:00:00.000Z");
    expect(desiredCount(g.rules, undefined, new Date("2026-11-30T07:00:00Z")).since).toBe("2026-11-30T06:00:00.000Z");
  });
});
