// Property tests of the signals merge rule over generated histories of signals: never below the schedule, never above max, the schedule again after expiry.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GroupRulesSchema } from "../../../src/config/group.ts";
import { desiredCount } from "../../../src/core/schedule/desired.ts";
import { applySignal, type LiveSignal, type Receiver } from "../../../src/core/schedule/signals.ts";

const T0 = Date.parse("2026-11-26T00:00:00.000Z");

const rulesArb = fc
  .record({
    min: fc.nat(3),
    span: fc.nat(12),
    def: fc.nat(15),
    crons: fc.array(fc.record({ cron: fc.constantFrom("0 8 * * 1-5", "0 20 * * *", "*/30 * * * *"), desired: fc.nat(15) }), { maxLength: 2 }),
  })
  .map(({ min, span, def, crons }) =>
    GroupRulesSchema.parse({
      image: "cirros",
      flavor: "m1.tiny",
      min,
      max: min + span,
      default: Math.max(min, Math.min(def, min + span)),
      schedules: crons.map((c) => ({ ...c, desired: Math.max(min, Math.min(c.desired, min + span)), timezone: "Europe/Berlin" })),
    }),
  );

/** A history of signals: which receiver (of three), firing or resolved, from which source, minutes after T0. */
const historyArb = fc.array(
  fc.record({ receiver: fc.nat(2), firing: fc.boolean(), key: fc.constantFrom("", "a", "b"), minute: fc.nat(600), desired: fc.integer({ min: 1, max: 40 }), duration: fc.integer({ min: 1, max: 240 }) }),
  { maxLength: 25 },
);

function replay(history: Array<{ receiver: number; firing: boolean; key: string; minute: number; desired: number; duration: number }>): LiveSignal[] {
  let signals: LiveSignal[] = [];
  for (const h of [...history].sort((a, b) => a.minute - b.minute)) {
    const receiver: Receiver = { id: `web.${String(h.receiver).padStart(24, "0")}`, group: "web", name: `r${h.receiver}`, action: "raise", desired: h.desired, durationMinutes: h.duration, createdAt: "", createdBy: "" };
    signals = applySignal(signals, receiver, { status: h.firing ? "firing" : "resolved", key: h.key, format: "plain" }, new Date(T0 + h.minute * 60_000)).signals;
  }
  return signals;
}

const instant = fc.nat(24 * 60).map((m) => new Date(T0 + m * 60_000));

describe("signals merged with the schedule (property)", () => {
  it("desired with signals is never below the schedule's desired", () => {
    fc.assert(
      fc.property(rulesArb, historyArb, instant, (rules, history, at) => {
        expect(desiredCount(rules, undefined, at, { signals: replay(history) }).value).toBeGreaterThanOrEqual(desiredCount(rules, undefined, at).value);
      }),
      { numRuns: 300 },
    );
  });

  it("desired with signals is never above max", () => {
    fc.assert(
      fc.property(rulesArb, historyArb, instant, (rules, history, at) => {
        expect(desiredCount(rules, undefined, at, { signals: replay(history) }).value).toBeLessThanOrEqual(rules.max);
      }),
      { numRuns: 300 },
    );
  });

  it("once every signal has expired, desired equals the schedule's", () => {
    fc.assert(
      fc.property(rulesArb, historyArb, fc.nat(600), (rules, history, extra) => {
        const signals = replay(history);
        const end = Math.max(T0, ...signals.map((s) => Date.parse(s.until)));
        const after = new Date(end + extra * 60_000);
        expect(desiredCount(rules, undefined, after, { signals })).toEqual(desiredCount(rules, undefined, after));
      }),
      { numRuns: 300 },
    );
  });

  it("desired with signals is the schedule's or the strongest live signal's, clamped", () => {
    fc.assert(
      fc.property(rulesArb, historyArb, instant, (rules, history, at) => {
        const signals = replay(history).filter((s) => Date.parse(s.until) > at.getTime());
        const strongest = Math.max(0, ...signals.map((s) => s.desired));
        const scheduled = desiredCount(rules, undefined, at).value;
        expect(desiredCount(rules, undefined, at, { signals }).value).toBe(Math.min(rules.max, Math.max(scheduled, strongest)));
      }),
      { numRuns: 300 },
    );
  });
});
