// Property tests of windows and exceptions: the timeline agrees with desiredCount, and a window holds for every minute inside it, across DST.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GroupRulesSchema, type GroupRules } from "../../../src/config/group.ts";
import { desiredCount } from "../../../src/core/schedule/desired.ts";
import { changePoints } from "../../../src/core/schedule/timeline.ts";
import { openingAt } from "../../../src/core/schedule/windows.ts";
import { offsetMinutes } from "../../../src/core/schedule/zoned.ts";

const ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/Santiago"];
/** Days around both 2026 DST switches of the zones above (Sydney and Santiago switch in April and September/October). */
const SWITCH_DAYS = ["2026-03-08", "2026-03-29", "2026-04-05", "2026-09-06", "2026-10-04", "2026-10-25", "2026-11-01"];
const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 15, 30, 45)).map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`);
const dayList = fc
  .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), fc.boolean())
  .map(([a, b, range]) => (range ? `${DAYS[a]}-${DAYS[b]}` : a === b ? `${DAYS[a]}` : `${DAYS[a]},${DAYS[b]}`));
/** A window of one day list and one or two time ranges (a range may wrap midnight), or a span across days. */
const windowSpec = fc.oneof(
  fc.tuple(dayList, hhmm, hhmm).filter(([, a, b]) => a !== b).map(([d, a, b]) => `${d} ${a}-${b}`),
  fc.tuple(dayList, hhmm, hhmm, hhmm, hhmm).filter(([, a, b, c, e]) => a !== b && c !== e).map(([d, a, b, c, e]) => `${d} ${a}-${b},${c}-${e}`),
  fc.tuple(fc.integer({ min: 0, max: 6 }), hhmm, fc.integer({ min: 0, max: 6 }), hhmm).map(([a, t, b, u]) => `${DAYS[a]} ${t}-${DAYS[b]} ${u}`),
);
const switchInstant = fc
  .tuple(fc.constantFrom(...SWITCH_DAYS), fc.integer({ min: -36 * 60, max: 36 * 60 }))
  .map(([day, minutes]) => new Date(Date.parse(`${day}T00:00:00Z`) + minutes * 60_000));

const rulesArb: fc.Arbitrary<GroupRules> = fc
  .record({
    windows: fc.array(fc.record({ window: windowSpec, timezone: fc.constantFrom(...ZONES), desired: fc.nat(12) }), { maxLength: 3 }),
    crons: fc.array(fc.record({ cron: fc.constantFrom("0 8 * * 1-5", "30 2 * * *", "*/20 * * * *", "0 20 * * *"), timezone: fc.constantFrom(...ZONES), desired: fc.nat(12) }), { maxLength: 2 }),
    exceptions: fc.array(
      fc.record({ name: fc.constantFrom("a", "b"), dates: fc.subarray(SWITCH_DAYS, { minLength: 1 }), timezone: fc.constantFrom(...ZONES), desired: fc.nat(12) }),
      { maxLength: 2 },
    ),
    min: fc.nat(2),
    def: fc.option(fc.nat(3), { nil: undefined }),
  })
  .map(({ windows, crons, exceptions, min, def }) =>
    GroupRulesSchema.parse({ image: "i", flavor: "f", min, max: 10, default: def === undefined ? undefined : min + def, schedules: [...windows, ...crons], exceptions }),
  );

describe("properties of windows and exceptions", () => {
  it("the timeline agrees with desiredCount at every sampled instant (value and source), across DST switches", () => {
    fc.assert(
      fc.property(rulesArb, switchInstant, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 6 }), (rules, from, fractions) => {
        const hours = 72;
        const { points, truncated } = changePoints(rules, undefined, from, hours);
        expect(truncated).toBe(false);
        for (const f of fractions) {
          const probe = new Date(from.getTime() + Math.floor(f * hours * 3_600_000));
          const holding = points.filter((p) => Date.parse(p.at) <= probe.getTime()).at(-1);
          const d = desiredCount(rules, undefined, probe);
          expect([holding?.value, holding?.source]).toEqual([d.value, d.source]);
        }
        for (const p of points) expect(desiredCount(rules, undefined, new Date(p.at)).value).toBe(p.value);
      }),
      { numRuns: 40 },
    );
  });

  it("a window's value holds for every minute inside it, and its edges are the wall-clock times (several zones, both DST switches)", () => {
    const oneWindow = fc.tuple(
      fc.tuple(dayList, hhmm, hhmm).filter(([, a, b]) => a !== b).map(([d, a, b]) => `${d} ${a}-${b}`),
      fc.constantFrom(...ZONES),
      switchInstant,
    );
    fc.assert(
      fc.property(oneWindow, ([spec, zone, probe]) => {
        const rules = GroupRulesSchema.parse({ image: "i", flavor: "f", max: 10, default: 1, schedules: [{ name: "w", window: spec, timezone: zone, desired: 7 }] });
        // The opening at the probe, else the first one within the next week.
        let opening = openingAt(spec, zone, probe.getTime());
        for (let t = probe.getTime(); opening === undefined && t < probe.getTime() + 8 * 86_400_000; t += 15 * 60_000) opening = openingAt(spec, zone, t);
        if (opening === undefined) return;
        for (let t = opening.from; t < opening.until; t += 60_000) {
          const d = desiredCount(rules, undefined, new Date(t));
          if (d.value !== 7 || d.source !== "window") expect({ at: new Date(t).toISOString(), value: d.value, source: d.source }).toEqual({ value: 7, source: "window" });
        }
        // Each edge reads the edge's wall-clock time, unless it falls on a DST switch (an edge inside a gap moves to the gap's end).
        const local = (ms: number) => new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(ms);
        const onSwitch = (ms: number) => offsetMinutes(ms, zone) !== offsetMinutes(ms - 60_000, zone);
        const [, times = ""] = spec.split(" ");
        const [start = "", end = ""] = times.split("-");
        expect(local(opening.from) === start || onSwitch(opening.from)).toBe(true);
        expect(local(opening.until) === (end === "24:00" ? "00:00" : end) || onSwitch(opening.until)).toBe(true);
      }),
      { numRuns: 12 },
    );
  });
});
