// Group rules validation: defaults for everything but image, flavor and max; every rejection names its field path.
import { describe, expect, it } from "vitest";
import { GroupNameSchema, GroupRulesSchema, type GroupRulesInput } from "../../src/config/group.ts";

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
    expect(r).toEqual([{ path: "schedules.0.cron", message: "invalid cron expression: the pattern never fires" }]);
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
