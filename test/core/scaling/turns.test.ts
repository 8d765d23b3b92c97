// Whose turn it is: one ring for groups and policies, a cursor predicted from stored state; properties over generated ticks.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DUE_POLICY_REQUESTS,
  RAISE_AFTER_MINUTES,
  cursorAdvance,
  nextTurnState,
  keptAfter,
  policyReserve,
  policyReserves,
  ringOf,
  ticksUntilTurn,
  turnKey,
  turnOrder,
  type TurnItem,
  type TurnState,
} from "../../../src/core/scaling/turns.ts";

const T0 = Date.parse("2026-11-26T12:00:00Z");
const minute = (m: number) => new Date(T0 + m * 60_000);
const group = (name: string): TurnItem => ({ kind: "group", name });
const policy = (name: string): TurnItem => ({ kind: "policy", name });

/**
 * One tick of the model: the policies' shares kept while the groups take what they cost (a group reached with nothing left got nothing), then
 * the policies, each with the shares of those after it still kept (need at least 1). Mirrors tick.ts +
 * tick-queue.ts.
 */
function simulateTick(items: readonly TurnItem[], cost: (item: TurnItem) => number, budget: number, state: TurnState | undefined, now: Date, due: ReadonlySet<string>) {
  const turn = turnOrder(items, state, now, due);
  let left = budget;
  const got = new Map<string, boolean>();
  const take = (item: TurnItem, kept: number) => {
    const need = cost(item);
    const free = Math.max(0, left - kept);
    if (need === 0) got.set(turnKey(item), true);
    else if (item.kind === "policy" && free < 1) got.set(turnKey(item), false);
    else {
      const taken = Math.min(need, free);
      left -= taken;
      got.set(turnKey(item), taken > 0);
    }
  };
  const shares = policyReserves(turn.rotated, state, due, left);
  turn.order.forEach((item, index) => {
    take(item, keptAfter(shares, turn.order, item.kind === "policy" ? index : -1));
  });
  const firstStarved = turn.rotated.findIndex((item) => got.get(turnKey(item)) === false);
  const reached = firstStarved < 0 ? turn.rotated.length : firstStarved;
  const next = nextTurnState(state, turn.ring, now, turn.cursor, reached, "subrequests");
  const served = new Set([...got].filter(([, ok]) => ok).map(([key]) => key));
  const advance = cursorAdvance(state, turn.ring, now, turn.cursor, reached, next);
  return { served, reached, advance, next, newState: next === "keep" ? state : next, wrote: next !== "keep" && !(next === undefined && state === undefined) };
}

const itemsArb = fc
  .uniqueArray(fc.tuple(fc.constantFrom<TurnItem["kind"]>("group", "policy"), fc.string({ minLength: 1, maxLength: 4 })), { minLength: 1, maxLength: 25, selector: ([k, n]) => `${k}:${n}` })
  .map((pairs) => pairs.map(([kind, name]) => ({ kind, name })));

describe("the ring", () => {
  it("holds every item once, whatever order they come in", () => {
    const items = [group("a"), policy("a"), group("b"), group("a")];
    expect(ringOf(items).map(turnKey).sort()).toEqual(["group:a", "group:b", "policy:a"]);
  });

  it("does not move the others when an item is added (stable hash order)", () => {
    const before = ringOf([group("a"), group("b"), group("c")]).map(turnKey);
    const after = ringOf([group("a"), group("b"), group("c"), group("d")]).map(turnKey).filter((k) => k !== "group:d");
    expect(after).toEqual(before);
  });
});

describe("nextTurnState", () => {
  const ring = ringOf(["a", "b", "c", "d", "e", "f"].map(group));
  const state: TurnState = { ring: ring.map(turnKey), base: 100, start: 0, stride: 3, reason: "subrequests" };
  const at = (m: number) => new Date(m * 60_000);

  it("writes nothing while every tick reaches at least the stride", () => {
    expect(nextTurnState(state, ring, at(101), 3, 3, "subrequests")).toBe("keep");
    expect(nextTurnState(state, ring, at(102), 0, 5, "subrequests")).toBe("keep");
  });

  it("stores the end of a shorter arc and the smaller stride", () => {
    expect(nextTurnState(state, ring, at(101), 3, 2, "deadline")).toEqual({ ...state, base: 102, start: 5, stride: 2, reason: "deadline" });
  });

  it("stores a new ring when the set of items changed", () => {
    const grown = ringOf(["a", "b", "c", "d", "e", "f", "g"].map(group));
    expect(nextTurnState(state, grown, at(101), 0, 3, "subrequests")).toMatchObject({ ring: grown.map(turnKey), stride: 3 });
  });

  it("writes nothing when a tick reaches everyone, state or none (no put-and-delete every other minute)", () => {
    expect(nextTurnState(state, ring, at(101), 3, 6, "subrequests")).toBe("keep");
    expect(nextTurnState(undefined, ring, at(101), 0, 6, "subrequests")).toBe("keep");
  });

  it("raises the stride only after RAISE_AFTER_MINUTES, when a tick reached at least twice as many", () => {
    expect(nextTurnState({ ...state, stride: 2 }, ring, at(100 + RAISE_AFTER_MINUTES - 1), 0, 4, "subrequests")).toBe("keep");
    expect(nextTurnState({ ...state, stride: 2 }, ring, at(100 + RAISE_AFTER_MINUTES), 0, 4, "subrequests")).toMatchObject({ stride: 4 });
  });
});

describe("policyReserve", () => {
  const rotated = [group("a"), policy("nightly"), group("b"), policy("weekly")];

  it("holds DUE_POLICY_REQUESTS for a due policy and 1 for another policy of the arc", () => {
    expect(policyReserve(rotated, undefined, new Set(["nightly"]), 100)).toBe(DUE_POLICY_REQUESTS + 1);
  });

  it("never holds more than half of what is available", () => {
    expect(policyReserve(rotated, undefined, new Set(["nightly", "weekly"]), 5)).toBe(2);
  });

  it("keeps the cursor's policy its own request while a due policy before it in the run order spends the rest", () => {
    const atCursor = [policy("weekly"), group("a"), policy("nightly")];
    const shares = policyReserves(atCursor, undefined, new Set(["nightly"]), 4);
    expect(shares.get("weekly")).toBe(1);
    // The tick runs the due one first: while it runs, the cursor policy's share stays kept.
    const order = [group("a"), policy("nightly"), policy("weekly")];
    expect(keptAfter(shares, order, 1)).toBe(1);
    expect(keptAfter(shares, order, 2)).toBe(0);
  });

  it("gives the policy at the cursor a request even when half the budget is nothing", () => {
    expect(policyReserves([policy("weekly"), group("a")], undefined, new Set(), 1).get("weekly")).toBe(1);
  });
});

describe("ticksUntilTurn", () => {
  it("says with which tick an item outside this minute's arc comes", () => {
    const ring = ringOf(["a", "b", "c", "d", "e", "f"].map(group));
    const state: TurnState = { ring: ring.map(turnKey), base: minute(1).getTime() / 60_000, start: 0, stride: 2, reason: "subrequests" };
    expect(ring.map((item) => ticksUntilTurn(state, item, minute(0)))).toEqual([1, 1, 2, 2, 3, 3]);
  });
});

describe("fairness over generated ticks (properties)", () => {
  const costArb = fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 25, maxLength: 25 });

  it("every item is served within K = ceil(N / r) ticks, r the fewest ring items a tick reached (at most N)", () => {
    fc.assert(
      fc.property(itemsArb, costArb, fc.integer({ min: 1, max: 30 }), (items, costs, budget) => {
        const ring = ringOf(items);
        const cost = (item: TurnItem) => costs[ring.findIndex((r) => turnKey(r) === turnKey(item))] ?? 0;
        const ticks = 4 * ring.length + 2;
        const servedAt = new Map<string, number[]>(ring.map((i) => [turnKey(i), []]));
        let state: TurnState | undefined;
        let fewest = Number.POSITIVE_INFINITY;
        for (let t = 0; t < ticks; t++) {
          const r = simulateTick(items, cost, budget, state, minute(t), new Set());
          for (const key of r.served) servedAt.get(key)?.push(t);
          fewest = Math.min(fewest, r.reached);
          state = r.newState;
        }
        expect(fewest).toBeGreaterThanOrEqual(1); // a fresh budget always starts the first item
        const k = Math.ceil(ring.length / fewest);
        expect(k).toBeLessThanOrEqual(ring.length);
        for (const [key, at] of servedAt) {
          const gaps = [at[0] ?? ticks, ...at.slice(1).map((x, i) => x - (at[i] as number))];
          for (const gap of gaps) expect(gap, `${key} served at ${at.join(",")}, K=${k}`).toBeLessThanOrEqual(k);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("with a budget that changes every tick, the cursor never passes an unserved item and an item waits fewer than K = ceil(N / a) ticks in a row, a the fewest items the cursor advanced meanwhile", () => {
    // Found by the combination property (seed 8675309): after a short tick the stride stays low while later
    // ticks reach more, so the bound counts the cursor's advance, not a tick's reach.
    fc.assert(
      fc.property(itemsArb, costArb, fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 8 }), (items, costs, budgets) => {
        const ring = ringOf(items);
        const cost = (item: TurnItem) => costs[ring.findIndex((r) => turnKey(r) === turnKey(item))] ?? 0;
        const waiting = new Map<string, { ticks: number; fewest: number }>();
        let state: TurnState | undefined;
        for (let t = 0; t < 4 * ring.length + 2; t++) {
          const r = simulateTick(items, cost, budgets[t % budgets.length] as number, state, minute(t), new Set());
          expect(r.advance, `tick ${t}: advanced ${r.advance} past a reach of ${r.reached}`).toBeLessThanOrEqual(r.reached);
          if (r.reached > 0) expect(r.advance, `tick ${t}: reached ${r.reached} but the cursor stood still`).toBeGreaterThanOrEqual(1);
          for (const item of ring) {
            const key = turnKey(item);
            if (r.served.has(key)) {
              waiting.delete(key);
              continue;
            }
            const before = waiting.get(key) ?? { ticks: 0, fewest: Number.POSITIVE_INFINITY };
            const now = { ticks: before.ticks + 1, fewest: Math.min(before.fewest, r.advance) };
            waiting.set(key, now);
            expect(now.ticks, `${key} unserved ${now.ticks} ticks in a row, a = ${now.fewest}`).toBeLessThan(Math.ceil(ring.length / now.fewest));
          }
          state = r.newState;
        }
      }),
      { numRuns: 150 },
    );
  });

  it("a policy due in its grace period is served in it when the budget allows (its reserve fits)", () => {
    fc.assert(
      fc.property(itemsArb, costArb, fc.integer({ min: 4, max: 30 }), fc.integer({ min: 1, max: 5 }), (items, costs, budget, grace) => {
        const ring = ringOf(items);
        const policies = ring.filter((i) => i.kind === "policy");
        fc.pre(policies.length > 0);
        const cost = (item: TurnItem) => (item.kind === "policy" ? 1 : (costs[ring.findIndex((r) => turnKey(r) === turnKey(item))] ?? 0));
        const due = new Set([policies[0]!.name]);
        // The budget allows: the reserve held for the due policy covers its turn.
        fc.pre(policyReserve(turnOrder(items, undefined, minute(0), due).rotated, undefined, due, budget) >= 1);
        let state: TurnState | undefined;
        let served = false;
        for (let t = 0; t < grace; t++) {
          const r = simulateTick(items, cost, budget, state, minute(t), due);
          served ||= r.served.has(turnKey(policies[0]!));
          state = r.newState;
        }
        expect(served).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it("a policy at the cursor is always served, however many policies are due and whatever they cost (its share is its own)", () => {
    fc.assert(
      fc.property(itemsArb, costArb, fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 1_000 }), (items, costs, budget, at) => {
        const ring = ringOf(items);
        const cost = (item: TurnItem) => costs[ring.findIndex((r) => turnKey(r) === turnKey(item))] ?? 0;
        const due = new Set(ring.filter((i) => i.kind === "policy").map((i) => i.name));
        // A stored stride of 1 puts the cursor anywhere on the ring.
        const state: TurnState = { ring: ring.map(turnKey), base: 0, start: 0, stride: 1, reason: "subrequests" };
        const turn = turnOrder(items, state, minute(at), due);
        fc.pre(turn.rotated[0]?.kind === "policy");
        expect(simulateTick(items, cost, budget, state, minute(at), due).served.has(turnKey(turn.rotated[0]!))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("a steady set whose costs do not change writes at most once, then nothing, over a day of ticks (uniform costs)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 60 }), (n, each, budget) => {
        const items = Array.from({ length: n }, (_, i) => group(`g${i}`));
        let state: TurnState | undefined;
        let writes = 0;
        for (let t = 0; t < 1_440; t++) {
          const r = simulateTick(items, () => each, budget, state, minute(t), new Set());
          if (r.wrote) writes += 1;
          state = r.newState;
        }
        expect(writes).toBeLessThanOrEqual(1);
      }),
      { numRuns: 30 },
    );
  });

  it("with any fixed costs, writes come only from a set change, a shorter arc or an hourly raise: far fewer than one a minute (a day of ticks)", () => {
    fc.assert(
      fc.property(itemsArb, costArb, fc.integer({ min: 1, max: 30 }), (items, costs, budget) => {
        const ring = ringOf(items);
        const cost = (item: TurnItem) => costs[ring.findIndex((r) => turnKey(r) === turnKey(item))] ?? 0;
        let state: TurnState | undefined;
        let writes = 0;
        for (let t = 0; t < 1_440; t++) {
          const r = simulateTick(items, cost, budget, state, minute(t), new Set());
          if (r.wrote) {
            writes += 1;
            // A write of the same ring either shrinks the stride (a shorter arc) or raises it after an hour.
            if (state !== undefined && r.newState !== undefined && r.newState.ring.join() === state.ring.join()) {
              expect(r.newState.stride < state.stride || state.stride === 0 || minute(t).getTime() / 60_000 - state.base >= RAISE_AFTER_MINUTES).toBe(true);
            }
          }
          state = r.newState;
        }
        // Each hour at most one raise, and after it at most one shrink per smaller arc length (< N); plus the first write.
        expect(writes).toBeLessThanOrEqual((1_440 / RAISE_AFTER_MINUTES) * ring.length + ring.length + 1);
      }),
      { numRuns: 25 },
    );
  });

  it("a set change is written once (a new ring), and the ring of the unchanged items keeps its order", () => {
    const before = [group("a"), group("b"), group("c"), policy("p")];
    const first = simulateTick(before, () => 5, 6, undefined, minute(0), new Set());
    expect(first.wrote).toBe(true);
    const again = simulateTick(before, () => 5, 6, first.newState, minute(1), new Set());
    expect(again.wrote).toBe(false);
    const grown = simulateTick([...before, group("d")], () => 5, 6, again.newState, minute(2), new Set());
    expect(grown.wrote).toBe(true);
  });
});
