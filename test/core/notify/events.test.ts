// Notification events as data: one condition is one event until it clears; recovery, counts and ids follow from records.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CONTROL_EVENT_TYPES, controlObservation, nextConditions, observe, OFF_SCHEDULE_GRACE_MS, type Condition, type NotifyEvent, type Observation } from "../../../src/core/notify/events.ts";
import type { TickRecord } from "../../../src/core/records.ts";

const T0 = Date.parse("2026-11-26T08:00:00Z");
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();

function obs(min: number, extra: Partial<Observation> = {}): Observation {
  return { group: "web", at: at(min), desired: { value: 2, reason: "default" }, counted: 2, after: 2, health: "steady", paused: false, bootSucceeded: false, snapshotSucceeded: false, ...extra };
}

/** Runs observations through nextConditions in order; returns every event. */
function run(observations: Observation[], graceMs?: number): NotifyEvent[] {
  let open: Condition[] = [];
  const events: NotifyEvent[] = [];
  for (const o of observations) {
    const next = nextConditions(open, o, graceMs);
    open = next.conditions;
    events.push(...next.events);
  }
  return events;
}

const blocked = { bootBlock: { reason: "Invalid key_name provided.", at: at(0) }, counted: 0, after: 0, health: "error" as const };

describe("nextConditions", () => {
  it("a boot block fires once however many ticks it lasts", () => {
    const events = run([obs(0, blocked), obs(1, blocked), obs(2, blocked)]);
    expect(events.map((e) => `${e.type}:${e.status}`)).toEqual(["boot-blocked:firing"]);
  });

  it("the block's end is one resolved event with the firing event's id plus /resolved", () => {
    const events = run([obs(0, blocked), obs(1, blocked), obs(2, { counted: 0, after: 2, bootSucceeded: true, health: "converging" })]);
    expect(events.map((e) => e.id)).toEqual(["web/boot-blocked/2026-11-26T08:00:00.000Z", "web/boot-blocked/2026-11-26T08:00:00.000Z/resolved"]);
  });

  it("a condition that comes back after clearing is a new event (a new id)", () => {
    const events = run([obs(0, blocked), obs(1), obs(2, blocked)]);
    expect(new Set(events.filter((e) => e.status === "firing").map((e) => e.id)).size).toBe(2);
  });

  it("each event says its cause in a sentence and the old -> new count", () => {
    const [e] = run([obs(0, { ...blocked, counted: 1, after: 1 })]);
    expect(e?.message).toBe("Booting is blocked until the rules change: Invalid key_name provided (servers 1 -> 1, desired 2).");
  });

  it("a failed boot lasts while the group is short and no boot succeeded, even on ticks that send none", () => {
    const failing = { bootFailed: "Nova answered 500", counted: 0, after: 0, health: "converging" as const };
    const events = run([obs(0, failing), obs(1, { counted: 0, after: 0 }), obs(2, { counted: 0, after: 2, bootSucceeded: true })]);
    expect(events.map((e) => `${e.type}:${e.status}@${e.at}`)).toEqual([`boot-failed:firing@${at(0)}`, `boot-failed:resolved@${at(2)}`]);
  });

  it("a group error and its recovery", () => {
    const events = run([obs(0, { error: "list servers: 503", health: "error" }), obs(1, { error: "list servers: 503", health: "error" }), obs(2)]);
    expect(events.map((e) => [e.type, e.status, e.title])).toEqual([
      ["group-error", "firing", "web: group error"],
      ["group-error", "resolved", "web: recovered from group error"],
    ]);
  });

  it("schedule not followed waits for its grace before firing, then fires once", () => {
    const short = { counted: 1, after: 1, health: "capacity-limited" as const };
    const minutes = [0, 5, 10, 14, 15, 16, 20];
    const events = run(minutes.map((m) => obs(m, short))).filter((e) => e.type === "schedule-not-followed");
    expect(events.map((e) => e.at)).toEqual([at(15)]);
    expect(OFF_SCHEDULE_GRACE_MS).toBe(15 * 60_000);
  });

  it("schedule not followed that clears within its grace says nothing at all", () => {
    const events = run([obs(0, { counted: 1, after: 2 }), obs(1)]);
    expect(events).toEqual([]);
  });

  it("an override starts and ends as events; a replacing override ends the old one and starts the new", () => {
    const o1 = { desired: 5, until: at(60), reason: "launch", author: "bob", createdAt: at(0) };
    const o2 = { ...o1, desired: 6, createdAt: at(2) };
    const events = run([obs(0, { override: o1, desired: { value: 5, reason: "override" }, counted: 5, after: 5 }), obs(2, { override: o2, desired: { value: 6, reason: "override" }, counted: 6, after: 6 }), obs(3)]);
    expect(events.map((e) => `${e.title}|${e.since}`)).toEqual([`web: override started|${at(0)}`, `web: override ended|${at(0)}`, `web: override started|${at(2)}`, `web: override ended|${at(2)}`]);
  });

  it("a paused group is not reported as off schedule", () => {
    expect(run([0, 20, 40].map((m) => obs(m, { paused: true, counted: 0, after: 0 })))).toEqual([]);
  });

  it("property: every resolved event follows its firing event, and no id is sent twice", () => {
    const kinds = fc.constantFrom<Partial<Observation>>({}, blocked, { error: "x", health: "error" }, { capacity: "quota", health: "capacity-limited" }, { snapshotFailed: "killed" }, { snapshotStale: "late" }, { bootFailed: "500", counted: 0, after: 0 });
    fc.assert(
      fc.property(fc.array(kinds, { maxLength: 40 }), (history) => {
        const events = run(history.map((h, i) => obs(i * 7, h)));
        const ids = events.map((e) => e.id);
        expect(new Set(ids).size).toBe(ids.length);
        const fired = new Set<string>();
        for (const e of events) {
          if (e.status === "firing") fired.add(e.id);
          else expect(fired.has(e.id.replace(/\/resolved$/, ""))).toBe(true);
        }
      }),
    );
  });
});

function record(extra: Partial<TickRecord> = {}): TickRecord {
  return {
    at: at(0),
    trigger: "cron",
    rulesEtag: '"x"',
    desired: { value: 3, reason: "default", source: "default" },
    actualByStatus: { ACTIVE: 1 },
    counted: 1,
    listing: "complete",
    steps: [],
    results: [],
    notices: [],
    errors: [],
    health: "converging",
    ...extra,
  };
}

describe("observe", () => {
  it("counts after the tick: the boots done (a multi-create's whole count) less the deletes done", () => {
    const o = observe(
      "web",
      record({
        results: [
          { step: { kind: "boot", group: "web", count: 3, reason: "r" }, outcome: "done", serverIds: ["a"] },
          { step: { kind: "delete", group: "web", serverId: "b", serverName: "b", reason: "r" }, outcome: "done" },
          { step: { kind: "delete", group: "web", serverId: "c", serverName: "c", reason: "r" }, outcome: "failed" },
        ],
      }),
      { paused: false },
    );
    expect([o.counted, o.after]).toEqual([1, 3]);
  });

  it("a lost boot settled as failed (an activity line) is a failed boot", () => {
    const o = observe("web", record(), { paused: false }, [{ at: at(0), kind: "boot-failed", author: "cron", reason: "the boot sent 08:00 created nothing" }]);
    expect(o.bootFailed).toBe("the boot sent 08:00 created nothing");
  });

  it("a failed listing is a group error", () => {
    const o = observe("web", record({ listing: "failed", errors: [{ operation: "list servers", category: "transient", message: "503" }], health: "error" }), { paused: false });
    expect(o.error).toBe("503");
  });
});

describe("operator controls notify at once, and the next reconcile does not repeat them", () => {
  const override = { desired: 5, until: at(120), reason: "launch", author: "alice", createdAt: at(0) };
  const control = (min: number, o: { override?: typeof override; pausedBy?: { by: string; at: string; reason?: string } }) =>
    controlObservation({ group: "web", at: at(min), counted: 2, desired: { value: o.override?.desired ?? 2, reason: "x" }, override: o.override, pausedBy: o.pausedBy, rulesPaused: false });

  it("an override set through the API fires at once; the reconcile that then sees it sends nothing", () => {
    const first = nextConditions([], control(0, { override }), OFF_SCHEDULE_GRACE_MS, CONTROL_EVENT_TYPES);
    expect(first.events.map((e) => [e.id, e.status])).toEqual([["web/override/2026-11-26T08:00:00.000Z", "firing"]]);
    const tick = nextConditions(first.conditions, obs(1, { override, desired: { value: 5, reason: "override" }, counted: 5, after: 5 }));
    expect(tick.events).toEqual([]);
  });

  it("clearing it through the API resolves it at once; the next reconcile sends nothing", () => {
    const set = nextConditions([], control(0, { override }), OFF_SCHEDULE_GRACE_MS, CONTROL_EVENT_TYPES);
    const cleared = nextConditions(set.conditions, control(10, {}), OFF_SCHEDULE_GRACE_MS, CONTROL_EVENT_TYPES);
    expect(cleared.events.map((e) => e.id)).toEqual(["web/override/2026-11-26T08:00:00.000Z/resolved"]);
    expect(nextConditions(cleared.conditions, obs(11)).events).toEqual([]);
  });

  it("a pause fires 'paused' with the operator's reason at its own time, a resume resolves it; a reconcile in between repeats nothing", () => {
    const pausedBy = { by: "bob", at: at(3), reason: "maintenance" };
    const paused = nextConditions([], control(3, { pausedBy }), OFF_SCHEDULE_GRACE_MS, CONTROL_EVENT_TYPES);
    expect(paused.events.map((e) => [e.id, e.title, e.message])).toEqual([["web/paused/2026-11-26T08:03:00.000Z", "web: paused", "bob paused the group: maintenance (servers 2 -> 2, desired 2)."]]);
    const tick = nextConditions(paused.conditions, observe("web", tickAt(4), { paused: true, pausedBy }));
    expect(tick.events).toEqual([]);
    const resumed = nextConditions(tick.conditions, control(5, {}), OFF_SCHEDULE_GRACE_MS, CONTROL_EVENT_TYPES);
    expect(resumed.events.map((e) => [e.id, e.title])).toEqual([["web/paused/2026-11-26T08:03:00.000Z/resolved", "web: resumed"]]);
  });

  it("a control leaves every other open condition as it is (the reconcile decides those)", () => {
    const open = nextConditions([], obs(0, blocked)).conditions;
    const after = nextConditions(open, control(1, { override }), OFF_SCHEDULE_GRACE_MS, CONTROL_EVENT_TYPES);
    expect(after.events.map((e) => e.type)).toEqual(["override"]);
    expect(after.conditions.find((c) => c.type === "boot-blocked")).toEqual(open.find((c) => c.type === "boot-blocked"));
  });

  it("property: for any order of controls and reconciles, each override and pause fires once and resolves at most once", () => {
    const step = fc.oneof(fc.constant("set" as const), fc.constant("clear" as const), fc.constant("pause" as const), fc.constant("resume" as const), fc.constant("tick" as const));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 25 }), (steps) => {
        let open: Condition[] = [];
        let current: typeof override | undefined;
        let pausedBy: { by: string; at: string } | undefined;
        const ids: string[] = [];
        steps.forEach((s, i) => {
          if (s === "set") current = { ...override, createdAt: at(i) };
          if (s === "clear") current = undefined;
          if (s === "pause" && pausedBy === undefined) pausedBy = { by: "bob", at: at(i) };
          if (s === "resume") pausedBy = undefined;
          const o = s === "tick" ? observe("web", tickAt(i), { paused: pausedBy !== undefined, pausedBy, override: current }) : control(i, { ...(current ? { override: current } : {}), ...(pausedBy ? { pausedBy } : {}) });
          const next = s === "tick" ? nextConditions(open, o) : nextConditions(open, o, OFF_SCHEDULE_GRACE_MS, CONTROL_EVENT_TYPES);
          open = next.conditions;
          ids.push(...next.events.filter((e) => e.type === "override" || e.type === "paused").map((e) => e.id));
        });
        expect(new Set(ids).size).toBe(ids.length);
      }),
    );
  });
});

function tickAt(min: number): TickRecord {
  return record({ at: at(min), desired: { value: 2, reason: "default", source: "default" }, actualByStatus: { ACTIVE: 2 }, counted: 2 });
}
