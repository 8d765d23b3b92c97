// The cron tick: read every group once, list the project's servers once, and hand each group to its Durable Object.
import type { Env } from "../config/env.ts";
import { tickOrder } from "../core/budget.ts";
import { partitionByGroup } from "../core/membership.ts";
import { retentionGuard } from "../core/retention.ts";
import { entriesOf, readIndex, type ReadGroupResult, type RulesIndex } from "../store/rules.ts";
import { readDeferred, writeDeferred, type DeferredEntry } from "../store/tick-state.ts";
import { budgetFromEnv, type BudgetReport, type TickBudget } from "./budget.ts";
import { coordinatorStub, type ReconcileRequest } from "./coordinator.ts";
import { CloudGateway } from "./gateway.ts";
import { openCloud, type CloudFactory } from "./cloud-factory.ts";
import type { ObservedServer } from "../core/types.ts";
import { toStoredGroup } from "./group-service.ts";
import { registryStub } from "./registry.ts";
import type { StoredGroup, TickRecord } from "./service.ts";

/**
 * Groups handed to their Durable Objects at once. A Worker invocation has 6 connections "waiting for
 * response headers"; each DO call waits on cloud calls it makes back through the gateway, from this same
 * invocation. Keeping DO calls to half the slots leaves the other half to those cloud calls: no deadlock.
 */
export const TICK_GROUP_CONCURRENCY = 3;

export interface TickOptions {
  cloudFactory?: CloudFactory;
  concurrency?: number;
  /** The tick's budget (tests); default: from NOVASCALE_SUBREQUEST_BUDGET / NOVASCALE_TICK_SECONDS, starting now. */
  budget?: TickBudget;
}

export interface TickSummary {
  groups: number;
  /** Groups whose stored rules could not be read (reported, skipped). */
  unreadable: string[];
  listing: "complete" | "failed" | "skipped";
  records: Array<{ group: string; record?: TickRecord; failure?: string }>;
  /** Groups whose work (some or all) waits for the next tick, in the order it will serve them. */
  deferred: DeferredEntry[];
  budget?: BudgetReport;
}

/**
 * Every group for a tick: one KV read of the index the registry writes. When KV has no readable index
 * (a new deployment, a failed write, a location it has not reached yet), the registry's own is used.
 */
export async function loadGroups(env: Env): Promise<ReadGroupResult[]> {
  const read = await readIndex(env.RULES);
  let index: RulesIndex;
  if (read.ok) index = read.index;
  else {
    console.log(`novascale tick: ${read.problem}; asking the rules registry`);
    index = await registryStub(env).indexForTick();
  }
  return entriesOf(index, "group");
}

/** One tick at `now` (the cron controller's scheduledTime). With no groups it makes no cloud call at all. */
export async function runTick(env: Env, now: Date, options: TickOptions = {}): Promise<TickSummary> {
  const [read, previouslyDeferred] = await Promise.all([loadGroups(env), readDeferred(env.RULES)]);
  const summary: TickSummary = { groups: read.length, unreadable: [], listing: "skipped", records: [], deferred: [] };
  if (read.length === 0) return summary;

  const groups: StoredGroup[] = [];
  for (const r of read) {
    if (r.ok) groups.push(toStoredGroup(r.name, r.envelope));
    else {
      summary.unreadable.push(r.name);
      console.error(`novascale tick: skipping group '${r.name}': ${r.problem}`);
    }
  }
  if (groups.length === 0) return summary;

  let budget = options.budget;
  if (budget === undefined) {
    const fromEnv = budgetFromEnv(env, Date.now());
    if (fromEnv.problem !== undefined) console.error(`novascale tick: bad budget setting: ${fromEnv.problem}`);
    budget = fromEnv.budget;
  }
  // Bad settings give a cloud whose every call fails with the reason: each group records it as its error.
  const gateway = new CloudGateway(openCloud(env, options.cloudFactory, budget), budget);
  const listedAt = Date.now();
  const listing = await gateway.listServers();
  summary.listing = listing.ok ? "complete" : "failed";
  if (!listing.ok) console.error(`novascale tick: ${listing.error.operation} failed (${listing.error.category}): ${listing.error.message}`);
  const byGroup = listing.ok ? partitionByGroup(listing.value, groups.map((g) => g.name)) : new Map<string, ObservedServer[]>();
  // What snapshot retention must never delete: every group's image and every image a server was booted from.
  // Only with every group's rules read: an unreadable group may name an image we cannot see.
  const anySnapshots = groups.some((g) => g.rules.snapshots !== undefined);
  const imageGuard =
    listing.ok && anySnapshots && summary.unreadable.length === 0
      ? retentionGuard(
          // A power group names no image; the images its servers were booted from are guarded through the listing.
          groups.flatMap((g) => (g.rules.image === undefined ? [] : [{ name: g.name, image: g.rules.image }])),
          listing.value,
        )
      : undefined;

  // Groups the last tick deferred go first; the rest keep the index's order.
  const byName = new Map(groups.map((g) => [g.name, g]));
  const order = tickOrder(groups.map((g) => g.name), previouslyDeferred?.groups.map((g) => g.name) ?? []);
  const queue = order.map((name) => byName.get(name) as StoredGroup);
  const unreached: StoredGroup[] = [];
  const worker = async () => {
    for (let group = queue.shift(); group !== undefined; group = queue.shift()) {
      if (budget.expired()) {
        // Nothing new starts after the deadline: the group is served first next tick.
        unreached.push(group);
        continue;
      }
      const request: ReconcileRequest = {
        group,
        now: now.toISOString(),
        trigger: "cron",
        author: "cron",
        listing: listing.ok ? { members: byGroup.get(group.name) ?? [], listedAt } : { error: listing.error, listedAt },
        ...(gateway.tickRequestId === undefined ? {} : { tickRequestId: gateway.tickRequestId }),
        ...(imageGuard !== undefined && group.rules.snapshots !== undefined ? { imageGuard } : {}),
      };
      try {
        const stub = coordinatorStub(env, group.name);
        const record = await stub.reconcile(request, gateway);
        summary.records.push({ group: group.name, record: record as TickRecord });
      } catch (error) {
        const failure = error instanceof Error ? error.message : String(error);
        console.error(`novascale tick: group '${group.name}' failed: ${failure}`);
        summary.records.push({ group: group.name, failure });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? TICK_GROUP_CONCURRENCY, groups.length) }, worker));
  summary.budget = budget.report();
  summary.deferred = deferredOf(order, summary.records, unreached);
  try {
    await writeDeferred(env.RULES, previouslyDeferred, now.toISOString(), summary.deferred);
  } catch (error) {
    console.error(`novascale tick: could not store the deferred groups: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (summary.deferred.length > 0) {
    const spent = `${summary.budget.spent} of ${summary.budget.limit} subrequests`;
    console.log(`novascale tick ${now.toISOString()}: ${summary.deferred.length} group(s) deferred to the next tick (${spent}): ${summary.deferred.map((d) => d.name).join(", ")}`);
  }
  const acted = summary.records.filter((r) => r.record !== undefined && r.record.results.length > 0 && r.record.at === now.toISOString());
  if (acted.length > 0 || summary.records.some((r) => r.failure !== undefined)) {
    // One line per tick that did something (names and counts only: nothing secret, nothing per server).
    const parts = acted.map((r) => `${r.group}: ${r.record?.results.length} step(s), ${r.record?.health}`);
    console.log(`novascale tick ${now.toISOString()}: ${groups.length} group(s), listing ${summary.listing}; ${parts.join("; ") || "no actions"}`);
  }
  return summary;
}

/** The groups to serve first next tick, in this tick's order: those a budget cut short, and those never reached. */
function deferredOf(order: readonly string[], records: TickSummary["records"], unreached: readonly StoredGroup[]): DeferredEntry[] {
  const out = new Map<string, DeferredEntry>();
  for (const r of records) {
    const d = r.record?.deferred;
    if (d !== undefined) out.set(r.group, { name: r.group, reason: d.reason, steps: d.steps, message: d.message });
  }
  for (const g of unreached) {
    out.set(g.name, { name: g.name, reason: "deadline", steps: 0, message: "not reached: the tick's time budget ran out before this group's turn" });
  }
  return order.flatMap((name) => out.get(name) ?? []);
}
