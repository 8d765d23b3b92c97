// Whose turn it is when a tick's budget reaches only part of the groups and policies: one ring, a cursor predicted from stored data. Pure.

/*
 * The rule (docs/architecture.md, "Fair turns"):
 *   - Groups and snapshot policies stand in one ring, ordered by a stable hash of `kind:name` (so adding
 *     or removing an item does not reshuffle the others).
 *   - The ring is served from a cursor, in ring order, until the budget reaches no further; the
 *     cursor advances past the items reached, up to the first one that got nothing (never started, or
 *     every step deferred), so each tick serves one contiguous arc of the ring and a group that
 *     always wants more than the budget gets its share once per round, not every tick.
 *   - Within a tick the arc's groups run first, then its policies (a policy's listing leaves out what
 *     the groups deleted). So that a busy group cannot spend the budget before the night's snapshot,
 *     the requests a policy's turn needs are held for it while the groups run (policyReserves): due
 *     policies (inside their grace period) first, then the other policies of the predicted arc; each
 *     policy's share stays its own while the policies before it run. While a policy is due, a group at
 *     the cursor gets what the shares leave (at least half); if its first step needs more, it waits
 *     (reached 0) until the firing is served or its grace period ends: the night's backup comes first.
 *   - The cursor is not stored each tick: it is predicted. The stored state says "from minute `base`
 *     the cursor stood at `start` and advances `stride` items a minute". A tick that reaches at least
 *     `stride` ring items leaves the state as it is (no write); only a tick that reaches fewer stores
 *     new state (cursor just past what it reached, stride = what it reached), and so does a change of
 *     the set of items (a new ring). A tick that reaches everything needs no state (it is deleted).
 *     So every tick's arc ends at or past the next tick's cursor: nobody is skipped, and a steady tick
 *     writes nothing.
 *   - Bound: every ring item is reached within K = ceil(N / a) consecutive ticks, N the ring's size and
 *     a the fewest items the cursor advanced in one of them (cursorAdvance): the stride in effect, or
 *     what a tick reached when that fell short of it. a never exceeds what the tick reached (nobody is
 *     skipped), and a >= 1 whenever the budget can start anything at all, so K <= N. Not the fewest a
 *     tick reached: after a short tick the stride stays at that tick's reach until a raise (at most
 *     hourly), and a tick that reaches more meanwhile serves its arc's head twice while the rest wait
 *     their stride's turn; that is the price of not writing KV every minute. A minute with no tick still
 *     moves the cursor: the items of that minute's arc wait one more round.
 *   - Raising the stride again (the budget grew, the load fell) is stored at most once an hour
 *     (RAISE_AFTER_MINUTES), when a tick reached at least twice the stride: a few writes a day at most.
 */

export type TurnKind = "group" | "policy";

export interface TurnItem {
  kind: TurnKind;
  name: string;
}

/** What the tick stores (KV `tick:deferred`) so the next ticks can predict the cursor. */
export interface TurnState {
  /** The ring this state is about, as `kind:name` keys in ring order: another set of items, another ring. */
  ring: string[];
  /** The minute (ms since the epoch / 60,000) from which `start` holds. */
  base: number;
  /** Ring index of the cursor at minute `base`. */
  start: number;
  /** Ring items the cursor advances per minute. */
  stride: number;
  /** Why the last tick that stored this fell short. */
  reason: "subrequests" | "deadline";
}

/** A stored stride is raised at most this often (minutes), so a fluctuating budget does not write every tick. */
export const RAISE_AFTER_MINUTES = 60;

export function turnKey(item: TurnItem): string {
  return `${item.kind}:${item.name}`;
}

/** FNV-1a, 32 bits: stable across isolates and deployments (the ring must not move between ticks). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The ring: every item once, by the hash of its key, ties by key. */
export function ringOf(items: readonly TurnItem[]): TurnItem[] {
  const unique = new Map<string, TurnItem>();
  for (const item of items) unique.set(turnKey(item), item);
  return [...unique.entries()]
    .map(([key, item]) => ({ key, item, h: fnv1a(key) }))
    .sort((a, b) => a.h - b.h || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((e) => e.item);
}

export function minuteOf(now: Date): number {
  return Math.floor(now.getTime() / 60_000);
}

function sameRing(state: TurnState | undefined, ring: readonly TurnItem[]): state is TurnState {
  return state !== undefined && state.ring.length === ring.length && state.ring.every((key, i) => key === turnKey(ring[i] as TurnItem));
}

/** Where the cursor stands at `minute` (ring index); 0 without state for this ring. */
export function cursorAt(state: TurnState | undefined, ring: readonly TurnItem[], minute: number): number {
  if (ring.length === 0 || !sameRing(state, ring)) return 0;
  const elapsed = Math.max(0, minute - state.base);
  return (((state.start + elapsed * state.stride) % ring.length) + ring.length) % ring.length;
}

/**
 * The tick's order. `rotated` is the ring from its cursor: the fairness order, by which the cursor's
 * advance is counted. `order` is how the tick runs it: the groups in rotated order, then the policies,
 * due ones first (a policy's listing must leave out what this tick's groups deleted, so it runs after
 * them; the requests its turn needs are held for it while the groups run: see policyReserve).
 */
export function turnOrder(
  items: readonly TurnItem[],
  state: TurnState | undefined,
  now: Date,
  duePolicies: ReadonlySet<string> = new Set(),
): { ring: TurnItem[]; cursor: number; rotated: TurnItem[]; order: TurnItem[] } {
  const ring = ringOf(items);
  const cursor = cursorAt(state, ring, minuteOf(now));
  const rotated = [...ring.slice(cursor), ...ring.slice(0, cursor)];
  const groups = rotated.filter((item) => item.kind === "group");
  const policies = rotated.filter((item) => item.kind === "policy");
  const due = policies.filter((item) => duePolicies.has(item.name));
  const other = policies.filter((item) => !duePolicies.has(item.name));
  return { ring, cursor, rotated, order: [...groups, ...due, ...other] };
}

/**
 * Requests kept for a due policy's turn while the groups run: it lists its images (1) and sends one
 * snapshot, which the gateway counts twice while it is in flight under the policy's grant (held and
 * spent: the gateway errs on the safe side), so 2 for it.
 */
export const DUE_POLICY_REQUESTS = 3;

/**
 * What the tick holds back for each policy while the items ahead of it run: DUE_POLICY_REQUESTS for a
 * policy whose firing is due, 1 (its listing of images) for each other policy inside the predicted arc
 * (the first `stride` items of the rotated ring; all of them without state). All of it together is at
 * most half of `available`, so groups always get their share, except that a policy at the cursor keeps
 * at least one request even past that: the cursor's item always gets something. Shares go first to the
 * policy at the cursor, then to due ones, then to the arc's others, each in ring order and whole while
 * they fit. Each policy's share is its own: the tick keeps the shares of the policies still to come while
 * one runs (keptAfter), so a due policy that also prunes images cannot spend the request of the policy
 * at the cursor. Without it a busy group would spend the budget before the night's snapshot, which then
 * misses its grace period.
 */
export function policyReserves(rotated: readonly TurnItem[], state: TurnState | undefined, duePolicies: ReadonlySet<string>, available: number): Map<string, number> {
  const arc = new Set(rotated.slice(0, state === undefined ? rotated.length : Math.max(1, state.stride)).map(turnKey));
  const cursorPolicy = rotated[0]?.kind === "policy" ? rotated[0].name : undefined;
  const need = (name: string) => (duePolicies.has(name) ? DUE_POLICY_REQUESTS : arc.has(turnKey({ kind: "policy", name })) ? 1 : 0);
  const shares = new Map<string, number>();
  let left = Math.min(Math.max(cursorPolicy === undefined ? 0 : 1, Math.floor(Math.max(0, available) / 2)), Math.max(0, available));
  const give = (name: string, requests: number) => {
    const granted = Math.min(requests, left);
    if (granted <= 0) return;
    shares.set(name, granted);
    left -= granted;
  };
  const others = rotated.filter((item) => item.kind === "policy" && item.name !== cursorPolicy).map((item) => item.name);
  if (cursorPolicy !== undefined) give(cursorPolicy, Math.max(1, need(cursorPolicy)));
  for (const name of others) if (duePolicies.has(name)) give(name, need(name));
  for (const name of others) if (!duePolicies.has(name)) give(name, need(name));
  return shares;
}

/** All the policies' shares together (what the tick keeps while its groups run). */
export function policyReserve(rotated: readonly TurnItem[], state: TurnState | undefined, duePolicies: ReadonlySet<string>, available: number): number {
  return keptAfter(policyReserves(rotated, state, duePolicies, available), rotated, -1);
}

/** The shares of the policies after position `index` of `order` (the ones still to run when the item at `index` starts). */
export function keptAfter(shares: ReadonlyMap<string, number>, order: readonly TurnItem[], index: number): number {
  let kept = 0;
  for (const item of order.slice(index + 1)) if (item.kind === "policy") kept += shares.get(item.name) ?? 0;
  return kept;
}

/**
 * The state to store after a tick that reached `reached` ring items from `cursor`: "keep" when the stored state still predicts a cursor no later than what this tick
 * reached (no write), undefined when nothing needs remembering (delete), else the new state.
 */
export function nextTurnState(
  state: TurnState | undefined,
  ring: readonly TurnItem[],
  now: Date,
  cursor: number,
  reached: number,
  reason: TurnState["reason"],
): TurnState | undefined | "keep" {
  const n = ring.length;
  const minute = minuteOf(now);
  // Everyone reached: whatever is stored still predicts a cursor nobody is skipped by (deleting it would only
  // make the next short tick write it again: a put and a delete every other minute).
  if (reached >= n || n === 0) return "keep";
  const fresh = (stride: number): TurnState => ({ ring: ring.map(turnKey), base: minute + 1, start: (cursor + reached) % n, stride, reason });
  if (!sameRing(state, ring)) return fresh(reached);
  // Fewer than predicted: store where this arc ended. A stride of 0 (a tick that reached nothing) moves once something is reached.
  if (reached < state.stride || (state.stride === 0 && reached > 0)) return fresh(reached);
  if (reached >= 2 * state.stride && minute - state.base >= RAISE_AFTER_MINUTES) return fresh(reached);
  return "keep";
}

/**
 * How many ring items the cursor moves from this tick's `cursor` to the next minute's, by the state
 * `next` (nextTurnState's answer) leaves: the `a` of the bound. N when the tick reached everyone.
 */
export function cursorAdvance(state: TurnState | undefined, ring: readonly TurnItem[], now: Date, cursor: number, reached: number, next: TurnState | undefined | "keep"): number {
  const n = ring.length;
  if (n === 0 || reached >= n) return n;
  const after = next === "keep" ? state : next;
  return (cursorAt(after, ring, minuteOf(now) + 1) - cursor + n) % n;
}

/**
 * In how many ticks after `now`'s minute `item` is next at or before the predicted cursor's arc (1: the
 * next tick's), by the stored prediction; undefined without state that names it.
 */
export function ticksUntilTurn(state: TurnState | undefined, item: TurnItem, now: Date): number | undefined {
  if (state === undefined) return undefined;
  const n = state.ring.length;
  const position = state.ring.indexOf(turnKey(item));
  if (position < 0 || n === 0) return undefined;
  const next = minuteOf(now) + 1;
  const cursor = (((state.start + Math.max(0, next - state.base) * state.stride) % n) + n) % n;
  const ahead = (position - cursor + n) % n;
  // A stride of 0 (the last tick reached nothing) predicts nothing beyond the cursor itself.
  if (state.stride <= 0) return ahead === 0 ? 1 : undefined;
  return 1 + Math.floor(ahead / state.stride);
}

/**
 * Fair across clouds: the items taken in turn from each cloud-region (`keyOf`), each cloud's own in the
 * order given (the rotated ring's), the clouds in the order of their first item. In any prefix of the
 * answer two clouds' counts differ by at most one unless one has run out: a tick whose budget or deadline
 * reaches n items serves every cloud at least min(its items, floor(n / clouds)), so a cloud with many
 * groups never starves one with few (property test: test/core/scaling/turns-clouds.property.test.ts).
 */
export function interleaveBy<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const queues = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const queue = queues.get(key);
    if (queue === undefined) queues.set(key, [item]);
    else queue.push(item);
  }
  const lanes = [...queues.values()];
  const out: T[] = [];
  for (let round = 0; out.length < items.length; round++) {
    for (const lane of lanes) if (round < lane.length) out.push(lane[round] as T);
  }
  return out;
}
