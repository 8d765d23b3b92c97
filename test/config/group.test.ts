// Group rules validation: defaults for everything but image, flavor and max; every rejection names its field path.
import { describe, expect, it } from "vitest";
import { GroupNameSchema, GroupRulesSchema, type GroupRulesInput } from "../../src/config/group.ts";
import { ICS_MAX_BYTES } from "../../src/core/schedule/ics.ts";

const valid: GroupRulesInput = { image: "ubuntu-24.04", flavor: "m1.small", max: 20 };

/** The field paths (dotted) and messages of every issue when parsing these rules. */
function rejection(input: unknown): Array<{ path: string; message: string }> {
  const result = GroupRulesSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
}

const paths = (input: unknown): string[] => rejection(input).map((r) => r.path);

describe("group rules: defaults", () => {
  it("needs only image, flavor and max, and fills in the rest", () => {
    expect(GroupRulesSchema.parse(valid)).toEqual({
      mode: "elastic",
      manualChanges: "enforce",
      image: "ubuntu-24.04",
      flavor: "m1.small",
      min: 0,
      max: 20,
      schedules: [],
      exceptions: [],
      networks: "auto",
      metadata: {},
      scaleIn: { order: "oldest-first" },
      replaceShutoff: true,
      limits: { maxBootsPerTick: 10, maxDeletesPerTick: 10, buildTimeoutMinutes: 30 },
      paused: false,
    });
  });

  it("defaults a cron entry's time zone to UTC", () => {
    const parsed = GroupRulesSchema.parse({ ...valid, schedules: [{ cron: "0 8 * * *", desired: 3 }] });
    expect(parsed.schedules[0]).toEqual({ cron: "0 8 * * *", timezone: "UTC", desired: 3 });
  });

  it("accepts image and flavor by id", () => {
    expect(GroupRulesSchema.safeParse({ ...valid, image: { id: "1b2c" }, flavor: { id: "42" } }).success).toBe(true);
  });
});

describe("group rules: rejections name the field", () => {
  it("min greater than max -> min", () => {
    expect(rejection({ ...valid, min: 21 })).toEqual([{ path: "min", message: "min (21) is greater than max (20)" }]);
  });

  it("default above max -> default", () => {
    expect(paths({ ...valid, default: 25 })).toEqual(["default"]);
  });

  it("default below min -> default", () => {
    expect(paths({ ...valid, min: 2, default: 1 })).toEqual(["default"]);
  });

  it("missing max -> max", () => {
    expect(paths({ image: "x", flavor: "y" })).toEqual(["max"]);
  });

  it("missing image and flavor -> image, flavor", () => {
    expect(paths({ max: 3 }).sort()).toEqual(["flavor", "image"]);
  });

  it("a negative count -> schedules.0.desired", () => {
    expect(paths({ ...valid, schedules: [{ cron: "0 8 * * *", desired: -1 }] })).toEqual(["schedules.0.desired"]);
  });

  it("unknown time zone -> schedules.N.timezone", () => {
    const r = rejection({ ...valid, schedules: [{ cron: "0 8 * * *", desired: 1 }, { cron: "0 8 * * *", timezone: "Europe/Atlantis", desired: 2 }] });
    expect(r).toEqual([{ path: "schedules.1.timezone", message: "unknown IANA time zone" }]);
  });

  it("malformed cron -> schedules.N.cron", () => {
    const r = rejection({ ...valid, schedules: [{ cron: "0 25 * * *", desired: 1 }] });
    expect(r.map((i) => i.path)).toEqual(["schedules.0.cron"]);
    expect(r[0]?.message).toMatch(/^invalid cron expression: /);
  });

  it("a cron with too few fields -> schedules.N.cron", () => {
    expect(paths({ ...valid, schedules: [{ cron: "0 8 *", desired: 1 }] })).toEqual(["schedules.0.cron"]);
  });

  it("a date-time in `cron` (croner would read it as a one-shot) -> schedules.N.cron, pointing to `at`", () => {
    const r = rejection({ ...valid, schedules: [{ cron: "2026-12-24T18:00:00", desired: 1 }] });
    expect(r.map((i) => i.path)).toEqual(["schedules.0.cron"]);
    expect(r[0]?.message).toContain("use `at`");
  });

  it("a cron with seconds or a year field (not classic five-field cron) -> schedules.N.cron", () => {
    expect(paths({ ...valid, schedules: [{ cron: "0 0 8 * * *", desired: 1 }] })).toEqual(["schedules.0.cron"]);
    expect(paths({ ...valid, schedules: [{ cron: "0 0 0 1 1 * 2030", desired: 1 }] })).toEqual(["schedules.0.cron"]);
  });

  it("cron nicknames and names of days and months are accepted", () => {
    expect(paths({ ...valid, schedules: [{ cron: "@daily", desired: 1 }, { cron: "0 8 * JAN-MAR MON-FRI", desired: 2 }] })).toEqual([]);
  });

  it("a cron that can never fire (30 February) -> schedules.N.cron", () => {
    const r = rejection({ ...valid, schedules: [{ cron: "0 0 30 2 *", desired: 1 }] });
    expect(r).toEqual([{ path: "schedules.0.cron", message: "invalid cron expression: the pattern never fires in UTC within 30 years (a day that never comes, or only times a DST switch skips)" }]);
  });

  it("a cron that never fires again in its own zone (only times Berlin's spring-forward gap skips) -> schedules.N.cron", () => {
    const r = rejection({ ...valid, schedules: [{ cron: "*/15 2 * 3 0#L", timezone: "Europe/Berlin", desired: 1 }] });
    expect(r.map((i) => i.path)).toEqual(["schedules.0.cron"]);
    expect(r[0]?.message).toContain("never fires in Europe/Berlin");
  });

  it("the same pattern is fine in a zone without that gap (the check is per entry, in its zone)", () => {
    expect(paths({ ...valid, schedules: [{ cron: "*/15 2 * 3 0#L", timezone: "UTC", desired: 1 }] })).toEqual([]);
  });

  it("a snapshot policy's cron is checked in the policy's zone -> snapshots.cron", () => {
    const r = paths({ ...valid, snapshots: { cron: "*/15 2 * 3 0#L", timezone: "Europe/Berlin", keep: 3 } });
    expect(r).toEqual(["snapshots.cron"]);
  });

  it("croner's '+' day-of-week prefix is not cron syntax -> schedules.N.cron", () => {
    expect(paths({ ...valid, schedules: [{ cron: "0 0 1 * +1", desired: 1 }] })).toEqual(["schedules.0.cron"]);
  });

  it("an unknown nickname, and @reboot, -> schedules.N.cron", () => {
    expect(paths({ ...valid, schedules: [{ cron: "@often", desired: 1 }] })).toEqual(["schedules.0.cron"]);
    expect(paths({ ...valid, schedules: [{ cron: "@reboot", desired: 1 }] })).toEqual(["schedules.0.cron"]);
  });

  it("the documented extensions L, W, # and ? are accepted", () => {
    const crons = ["0 2 L * *", "0 2 15W * *", "0 8 * * 1#1", "0 8 * * 5L", "0 8 ? * MON"];
    expect(paths({ ...valid, schedules: crons.map((cron) => ({ cron, desired: 1 })) })).toEqual([]);
  });

  it("a one-shot `at` may leave out the seconds", () => {
    const parsed = GroupRulesSchema.parse({ ...valid, schedules: [{ at: "2026-12-24T18:00+01:00", desired: 1 }, { at: "2026-12-24T18:00Z", desired: 2 }] });
    expect(parsed.schedules).toHaveLength(2);
  });

  it("a one-shot on a day that does not exist -> schedules.N.at", () => {
    expect(paths({ ...valid, schedules: [{ at: "2026-02-30T18:00+01:00", desired: 1 }] })).toEqual(["schedules.0.at"]);
  });

  it("a one-shot without an offset -> schedules.N.at", () => {
    expect(paths({ ...valid, schedules: [{ at: "2026-12-24T18:00:00", desired: 1 }] })).toEqual(["schedules.0.at"]);
  });

  it("an entry with both cron and at is neither kind -> schedules.N", () => {
    const r = paths({ ...valid, schedules: [{ cron: "0 8 * * *", at: "2026-12-24T18:00:00Z", desired: 1 }] });
    expect(r.every((p) => p.startsWith("schedules.0"))).toBe(true);
    expect(r.length).toBeGreaterThan(0);
  });

  it("a reserved metadata key -> metadata.KEY, naming the key", () => {
    expect(rejection({ ...valid, metadata: { role: "web", "novascale:group": "db" } })).toEqual([
      { path: "metadata.novascale:group", message: "'novascale:group': keys starting with 'novascale:' are reserved for novascale" },
    ]);
  });

  it("too many metadata keys for any cloud -> metadata", () => {
    const metadata = Object.fromEntries(Array.from({ length: 127 }, (_, i) => [`k${i}`, "v"]));
    expect(rejection({ ...valid, metadata })).toEqual([{ path: "metadata", message: "at most 126 keys (Nova allows 128, novascale uses 2)" }]);
  });

  it("a metadata value over 255 characters -> metadata.KEY", () => {
    expect(paths({ ...valid, metadata: { role: "x".repeat(256) } })).toEqual(["metadata.role"]);
  });

  it("an unknown field is refused, not silently dropped", () => {
    const r = GroupRulesSchema.safeParse({ ...valid, maximum: 30 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.code).toBe("unrecognized_keys");
  });

  it("an unknown scale-in order -> scaleIn.order", () => {
    expect(paths({ ...valid, scaleIn: { order: "random" } })).toEqual(["scaleIn.order"]);
  });

  it("a per-tick cap of 0 -> limits.maxBootsPerTick", () => {
    expect(paths({ ...valid, limits: { maxBootsPerTick: 0 } })).toEqual(["limits.maxBootsPerTick"]);
  });

  it("a bad name prefix -> namePrefix", () => {
    expect(paths({ ...valid, namePrefix: "web server" })).toEqual(["namePrefix"]);
  });

  it("a network without uuid or port -> networks", () => {
    expect(paths({ ...valid, networks: [{ fixedIp: "10.0.0.5" }] }).every((p) => p.startsWith("networks"))).toBe(true);
    expect(paths({ ...valid, networks: [{ fixedIp: "10.0.0.5" }] }).length).toBeGreaterThan(0);
  });

  it("a snapshot policy with an invalid cron -> snapshots.cron", () => {
    expect(paths({ ...valid, snapshots: { cron: "nightly", keep: 7 } })).toEqual(["snapshots.cron"]);
  });

  it("a snapshot policy keeping nothing -> snapshots.keep", () => {
    expect(paths({ ...valid, snapshots: { cron: "30 2 * * *", keep: 0 } })).toEqual(["snapshots.keep"]);
  });
});

describe("group names", () => {
  for (const name of ["web", "web-2", "0day", "a".repeat(63)]) {
    it(`accepts '${name.length > 10 ? `${name.slice(0, 5)}... (${name.length})` : name}'`, () => {
      expect(GroupNameSchema.safeParse(name).success).toBe(true);
    });
  }
  for (const name of ["", "Web", "-web", "web_1", "web.1", "a".repeat(64), "web/../x"]) {
    it(`rejects '${name.length > 10 ? `${name.slice(0, 5)}... (${name.length})` : name}'`, () => {
      expect(GroupNameSchema.safeParse(name).success).toBe(false);
    });
  }
});

describe("group rules: windows and exceptions", () => {
  it("a window entry defaults its zone to UTC", () => {
    const parsed = GroupRulesSchema.parse({ ...valid, schedules: [{ window: "Mon-Fri 08:00-20:00", desired: 4 }] });
    expect(parsed.schedules[0]).toEqual({ window: "Mon-Fri 08:00-20:00", timezone: "UTC", desired: 4 });
  });

  it("a malformed window -> schedules.N.window, saying what is wrong", () => {
    const r = rejection({ ...valid, schedules: [{ window: "Mon-Fry 08:00-20:00", desired: 4 }] });
    expect(r.map((i) => i.path)).toEqual(["schedules.0.window"]);
    expect(r[0]?.message).toContain("'Mon-Fry'");
  });

  it("a window whose time range ends at its start is accepted (24 hours across midnight, not empty)", () => {
    expect(paths({ ...valid, schedules: [{ window: "Mon 08:00-08:00", desired: 4 }] })).toEqual([]);
  });

  it("a window in an unknown zone -> schedules.N.timezone", () => {
    expect(paths({ ...valid, schedules: [{ window: "Mon 08:00-10:00", timezone: "Mars/Olympus", desired: 4 }] })).toEqual(["schedules.0.timezone"]);
  });

  it("an exception needs dates or ics -> exceptions.N.dates", () => {
    expect(paths({ ...valid, exceptions: [{ name: "x", desired: 0 }] })).toEqual(["exceptions.0.dates"]);
  });

  it("an exception date that does not exist -> exceptions.N.dates.M", () => {
    expect(paths({ ...valid, exceptions: [{ name: "x", dates: ["2026-12-24", "2026-02-30"], desired: 0 }] })).toEqual(["exceptions.0.dates.1"]);
  });

  it("an exception's iCalendar that cannot be read -> exceptions.N.ics, naming the event", () => {
    const ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Standup\r\nDTSTART:20261231T250000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    const r = rejection({ ...valid, exceptions: [{ name: "x", ics, desired: 0 }] });
    expect(r.map((i) => i.path)).toEqual(["exceptions.0.ics"]);
    expect(r[0]?.message).toContain("'Standup' has no valid DTSTART");
  });

  it("accepts a timed event in an exception's iCalendar (it counts for the local days it covers)", () => {
    const ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Standup\r\nDTSTART:20261224T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    expect(GroupRulesSchema.safeParse({ ...valid, exceptions: [{ name: "x", ics, desired: 0 }] }).success).toBe(true);
  });

  it("an iCalendar text over ICS_MAX_BYTES bytes -> exceptions.N.ics, saying its size", () => {
    const ics = `BEGIN:VCALENDAR\n${"X-FILLER:0123456789\n".repeat(27_000)}END:VCALENDAR\n`;
    const r = rejection({ ...valid, exceptions: [{ name: "x", ics, desired: 0 }] });
    expect(r.map((i) => i.path)).toEqual(["exceptions.0.ics"]);
    expect(r[0]?.message).toContain(`(at most ${ICS_MAX_BYTES})`);
  });

  it("the iCalendar bound counts UTF-8 bytes, not characters: 200,000 three-byte characters are refused", () => {
    const ics = `BEGIN:VCALENDAR\nX-NAME:${"\u0986".repeat(200_000)}\nEND:VCALENDAR\n`;
    expect(ics.length).toBeLessThan(ICS_MAX_BYTES);
    expect(paths({ ...valid, exceptions: [{ name: "x", ics, desired: 0 }] })).toEqual(["exceptions.0.ics"]);
  });

  it("more than 20 exceptions -> exceptions", () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ name: `e${i}`, dates: ["2026-12-24"], desired: 0 }));
    expect(paths({ ...valid, exceptions: many })).toEqual(["exceptions"]);
  });
});

describe("group rules: flavor as a list of preferences (issue 31)", () => {
  it("takes a single flavor as before", () => {
    expect(GroupRulesSchema.parse(valid).flavor).toBe("m1.small");
  });

  it("takes a list of names (and ids) in order of preference, kept in that order", () => {
    expect(GroupRulesSchema.parse({ ...valid, flavor: ["m1.large", "m1.medium", { id: "42" }] }).flavor).toEqual(["m1.large", "m1.medium", { id: "42" }]);
  });

  it("refuses an empty list at 'flavor'", () => {
    expect(paths({ ...valid, flavor: [] })).toEqual(["flavor"]);
  });

  it("refuses a flavor named twice, at its place in the list", () => {
    expect(rejection({ ...valid, flavor: ["m1.large", "m1.large"] })).toEqual([{ path: "flavor.1", message: "m1.large is named twice" }]);
  });

  it("refuses more than 5 flavors and an empty name", () => {
    expect(paths({ ...valid, flavor: ["a", "b", "c", "d", "e", "f"] })).toEqual(["flavor"]);
    expect(paths({ ...valid, flavor: ["m1.large", ""] })).toContain("flavor.1");
  });

  it("a power group may not name a list either", () => {
    expect(paths({ mode: "power", max: 3, flavor: ["m1.large"] })).toContain("flavor");
  });
});
