// The tick's fair queue: groups and policies in one turn order (core/scaling/turns.ts), a few groups at once, a policy alone, nothing new past the budget.
import type { TurnItem } from "../../core/scaling/turns.ts";
import type { DeferredEntry } from "../../store/tick-state.ts";
import type { TickBudget } from "../gateway/budget.ts";

export interface QueueOptions {
  /** Groups served at once (see TICK_GROUP_CONCURRENCY). */
  concurrency: number;
  budget: TickBudget;
  /** Called before each policy is tried, every item ahead of it finished (the tick keeps the shares of the policies after it). */
  beforePolicy?: (item: TurnItem, index: number) => void;
}

export type Unreached = { item: TurnItem; reason: DeferredEntry["reason"] };

/**
 * Serves `order` in turn. Consecutive groups run a few at once; a policy runs alone, after every item
 * ahead of it finished (its listing must leave out what those groups deleted; a group behind it would
 * see its snapshot sources as busy). Nothing new starts after the deadline, and a policy needs one
 * request (it lists its images). Past the deadline the first item that cannot start ends the turn for
 * every item behind it; a policy that finds no request to spare does not end it for a policy behind it
 * whose share is kept (the cursor's policy, a due one), so a policy's kept request is never lost to the
 * one before it.
 */
export async function serveTurns(order: readonly TurnItem[], options: QueueOptions, serve: (item: TurnItem) => Promise<void>): Promise<{ unreached: Unreached[] }> {
  const { budget } = options;
  const unreached: Unreached[] = [];
  let stopped: DeferredEntry["reason"] | undefined;
  const cannotStart = (item: TurnItem): DeferredEntry["reason"] | undefined => {
    if (stopped === "deadline") return stopped;
    if (budget.expired()) return "deadline";
    if (item.kind === "policy" && budget.available() < 1) return "subrequests";
    return undefined;
  };
  const tryServe = async (item: TurnItem) => {
    const why = cannotStart(item);
    if (why === undefined) return serve(item);
    stopped = why;
    unreached.push({ item, reason: why });
  };
  let i = 0;
  while (i < order.length) {
    const head = order[i] as TurnItem;
    if (head.kind === "policy") {
      options.beforePolicy?.(head, i);
      await tryServe(head);
      i += 1;
      continue;
    }
    let end = i;
    while (end < order.length && (order[end] as TurnItem).kind === "group") end += 1;
    const queue = order.slice(i, end);
    const worker = async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await tryServe(item);
    };
    await Promise.all(Array.from({ length: Math.min(Math.max(1, options.concurrency), queue.length) }, worker));
    i = end;
  }
  return { unreached };
}

/** The entries left for a later tick, in this tick's order: those a budget cut short, and those never reached. */
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
