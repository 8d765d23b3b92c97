// The tick's fair queue (groups, then policies): those the last tick deferred go first, a few at once, nothing new past the budget.
import { tickOrder } from "../../core/scaling/budget.ts";
import type { DeferredEntry } from "../../store/tick-state.ts";
import type { TickBudget } from "../gateway/budget.ts";

export interface QueueOptions {
  /** Served at once (see TICK_GROUP_CONCURRENCY). */
  concurrency: number;
  budget: TickBudget;
  /** Names the last tick deferred, served first in that order. */
  deferredFirst: readonly string[];
  /** Requests a turn needs before it may start (a policy always lists its images); 0: start whatever is left. */
  needs: number;
}

/** Serves every item by name; answers the order served in and those never started, with why. */
export async function serveInTurn<T extends { name: string }>(
  items: readonly T[],
  options: QueueOptions,
  serve: (item: T) => Promise<void>,
): Promise<{ order: string[]; unreached: Array<{ name: string; reason: DeferredEntry["reason"] }> }> {
  const byName = new Map(items.map((item) => [item.name, item]));
  const order = tickOrder(items.map((item) => item.name), options.deferredFirst);
  const queue = order.map((name) => byName.get(name) as T);
  const unreached: Array<{ name: string; reason: DeferredEntry["reason"] }> = [];
  const { budget } = options;
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      // Nothing new starts after the deadline (or without the requests a turn needs): served first next tick.
      if (budget.expired()) unreached.push({ name: item.name, reason: "deadline" });
      else if (options.needs > 0 && budget.available() < options.needs) unreached.push({ name: item.name, reason: "subrequests" });
      else await serve(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, items.length) }, worker));
  return { order, unreached };
}

/** The entries to serve first next tick, in this tick's order: those a budget cut short, and those never reached. */
export function deferredOf(
  order: readonly string[],
  cutShort: ReadonlyArray<{ name: string; deferred?: Omit<DeferredEntry, "name"> | undefined }>,
  unreached: ReadonlyArray<{ name: string; reason: DeferredEntry["reason"] }>,
  what: string,
): DeferredEntry[] {
  const out = new Map<string, DeferredEntry>();
  for (const r of cutShort) if (r.deferred !== undefined) out.set(r.name, { name: r.name, ...r.deferred });
  for (const u of unreached) {
    const why = u.reason === "deadline" ? "the tick's time budget ran out" : "the tick's subrequest budget was spent";
    out.set(u.name, { name: u.name, reason: u.reason, steps: 0, message: `not reached: ${why} before this ${what}'s turn` });
  }
  return order.flatMap((name) => out.get(name) ?? []);
}
