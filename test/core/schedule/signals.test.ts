// The signals rule, one rule per test: folding a signal into the live ones, and the merge with the schedule (desired = clamp(max(schedule, signals))).
import { describe, expect, it } from "vitest";
import { GroupRulesSchema, type GroupRulesInput } from "../../../src/config/group.ts";
import { decide, desiredCount } from "../../../src/core/schedule/desired.ts";
import { applySignal, liveSignals, MAX_LIVE_SIGNALS, type LiveSignal, type Receiver, type SignalInput } from "../../../src/core/schedule/signals.ts";
import { changePoints } from "../../../src/core/schedule/timeline.ts";

const T0 = new Date("2026-11-26T10:00:00.000Z");
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

function rules(extra: Partial<GroupRulesInput> = {}) {
  return GroupRulesSchema.parse({ image: "cirros", flavor: "m1.tiny", min: 1, max: 10, default: 2, ...extra });
}
function receiver(extra: Partial<Receiver> = {}): Receiver {
  return { id: "web.000000000000000000000001", group: "web", name: "alerts", action: "raise", desired: 6, durationMinutes: 30, createdAt: T0.toISOString(), createdBy: "admin", ...extra };
}
const firing: SignalInput = { status: "firing", key: "", format: "plain" };
const resolved: SignalInput = { status: "resolved", key: "", format: "plain" };
function signal(extra: Partial<LiveSignal> = {}): LiveSignal {
  return { receiverId: "web.000000000000000000000001", receiverName: "alerts", key: "", desired: 6, since: T0.toISOString(), lastAt: T0.toISOString(), until: minutes(30).toISOString(), count: 1, ...extra };
}

describe("applySignal", () => {
  it("a raise receiver's first signal starts a signal lasting its duration", () => {
    const { signals, outcome } = applySignal([], receiver(), firing, T0);
    expect([outcome.kind, signals[0]?.desired, signals[0]?.until]).toEqual(["raised", 6, minutes(30).toISOString()]);
  });

  it("a repeat from the same source extends the live signal instead of adding one", () => {
    const first = applySignal([], receiver(), firing, T0).signals;
    const { signals, outcome } = applySignal(first, receiver(), firing, minutes(10));
    expect([outcome.kind, signals.length, signals[0]?.until, signals[0]?.count, signals[0]?.since]).toEqual(["extended", 1, minutes(40).toISOString(), 2, T0.toISOString()]);
  });

  it("a repeat never shortens a signal", () => {
    const long = [signal({ until: minutes(120).toISOString() })];
    expect(applySignal(long, receiver(), firing, minutes(1)).signals[0]?.until).toBe(minutes(120).toISOString());
  });

  it("two sources of one receiver (two Alertmanager groups) are two signals", () => {
    const a = applySignal([], receiver(), { ...firing, key: "a" }, T0).signals;
    expect(applySignal(a, receiver(), { ...firing, key: "b" }, T0).signals.map((s) => s.key)).toEqual(["a", "b"]);
  });

  it("a resolved notification ends only its own source's signal", () => {
    const both = [signal({ key: "a" }), signal({ key: "b" })];
    const { signals, outcome } = applySignal(both, receiver(), { ...resolved, key: "a" }, minutes(1));
    expect([outcome.kind, signals.map((s) => s.key)]).toEqual(["cleared", ["b"]]);
  });

  it("a resolved notification with nothing live changes nothing", () => {
    expect(applySignal([], receiver(), resolved, T0).outcome.kind).toBe("nothing");
  });

  it("a clear receiver ends every live signal of the group", () => {
    const live = [signal({ key: "a" }), signal({ receiverId: "web.000000000000000000000002", key: "" })];
    const { signals, outcome } = applySignal(live, receiver({ action: "clear", id: "web.000000000000000000000009" }), firing, minutes(1));
    expect([outcome.kind, signals]).toEqual(["cleared", []]);
  });

  it("expired signals are dropped when a signal arrives", () => {
    const old = [signal({ key: "old", until: minutes(5).toISOString() })];
    expect(applySignal(old, receiver(), firing, minutes(6)).signals.map((s) => s.key)).toEqual([""]);
  });

  it("a new source is refused once the group holds MAX_LIVE_SIGNALS", () => {
    const full = Array.from({ length: MAX_LIVE_SIGNALS }, (_, i) => signal({ key: `k${i}` }));
    expect(applySignal(full, receiver(), { ...firing, key: "one-more" }, T0).outcome.kind).toBe("full");
  });

  it("a signal is live until strictly before its end", () => {
    expect([liveSignals([signal()], minutes(29)).length, liveSignals([signal()], minutes(30)).length]).toEqual([1, 0]);
  });
});

describe("the merge rule: desired = clamp(max(schedule, live signals), min, max)", () => {
  it("a live signal above the schedule raises desired and says so in the reason", () => {
    const d = desiredCount(rules(), undefined, minutes(1), { signals: [signal()] });
    expect([d.value, d.source, d.reason]).toEqual([6, "signal", expect.stringMatching(/^signal from receiver 'alerts' until 2026-11-26T10:30:00.000Z: at least 6 \(the schedule says 2: default 2/)]);
  });

  it("a signal below the schedule changes nothing", () => {
    const d = desiredCount(rules({ default: 8 }), undefined, minutes(1), { signals: [signal()] });
    expect([d.value, d.source]).toEqual([8, "default"]);
  });

  it("a signal above max is clamped to max", () => {
    const d = desiredCount(rules({ max: 4 }), undefined, minutes(1), { signals: [signal()] });
    expect([d.value, d.unclamped, d.source]).toEqual([4, 6, "signal"]);
  });

  it("an expired signal falls back to the schedule, not to 0", () => {
    const d = desiredCount(rules(), undefined, minutes(31), { signals: [signal()] });
    expect([d.value, d.source]).toEqual([2, "default"]);
  });

  it("the largest of several live signals decides", () => {
    const d = desiredCount(rules(), undefined, minutes(1), { signals: [signal({ desired: 4 }), signal({ key: "b", desired: 7 })] });
    expect(d.value).toBe(7);
  });

  it("an unexpired manual override beats a signal, even a larger one", () => {
    const override = { desired: 3, until: minutes(60).toISOString(), reason: "freeze", author: "ops", createdAt: T0.toISOString() };
    const d = desiredCount(rules(), override, minutes(1), { signals: [signal({ desired: 9 })] });
    expect([d.value, d.source]).toEqual([3, "override"]);
  });

  it("a paused group shows the signal's count but stays paused", () => {
    const d = desiredCount(rules(), undefined, minutes(1), { signals: [signal()], pausedBy: "ops" });
    expect([d.value, d.source]).toEqual([6, "paused"]);
  });

  it("the schedule's layer stays the one that decided beneath the signal", () => {
    expect(decide(rules(), undefined, minutes(1), { signals: [signal()] }).layer).toBe("default");
  });

  it("the timeline shows the signal and its end, where the count falls back to the schedule", () => {
    const points = changePoints(rules(), undefined, minutes(1), 2, { signals: [signal()] }).points;
    expect(points.map((p) => [p.at, p.value, p.source])).toEqual([
      [minutes(1).toISOString(), 6, "signal"],
      [minutes(30).toISOString(), 2, "default"],
    ]);
  });
});
