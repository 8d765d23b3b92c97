// The cron tick: read every rules entry once, list the project's servers once, hand groups and snapshot policies, in one fair turn order, to their Durable Objects.
import type { Env } from "../../config/env.ts";
import { partitionByGroup } from "../../core/model/membership.ts";
import { retentionGuard, type RetentionGuard } from "../../core/snapshots/retention.ts";
import { entriesOf, readIndex, type ReadGroupResult, type RulesIndex } from "../../store/rules.ts";
import { afterGroupSteps } from "../../core/snapshots/policy-run.ts";
import { readTurns, writeTurns, type DeferredEntry } from "../../store/tick-state.ts";
import { cursorAdvance, interleaveBy, keptAfter, nextTurnState, policyReserves, turnKey, turnOrder, type TurnItem } from "../../core/scaling/turns.ts";
import { budgetFromEnv, type BudgetReport, type TickBudget } from "../gateway/budget.ts";
import { coordinatorStub, type ReconcileRequest } from "../groups/coordinator.ts";
import { cloudsOf, type CloudFactory } from "../gateway/cloud-factory.ts";
import { placementKey, placementOf } from "../../config/clouds.ts";
import { cloudStatuses, openLanes, type CloudLane } from "./tick-clouds.ts";
import type { ObservedServer } from "../../core/model/types.ts";
import { registryStub } from "../registry/registry.ts";
import type { StoredGroup, TickRecord } from "../shared/service.ts";
import { storedFrom } from "../rules/fence.ts";
import { deferredOf, serveTurns } from "./tick-queue.ts";
import { duePolicies, readablePolicies, runPolicyTurn, type PolicyTickSummary } from "./tick-policies.ts";
import type { StoredPolicy } from "../policies/policy-coordinator.ts";
import { recordTick } from "../notify/notifier.ts";
import { logLine } from "../shared/log.ts";

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
  /** "failed" when any cloud-region's listing failed (each is in `clouds`). */
  listing: "complete" | "failed" | "skipped";
  /** Each cloud-region the tick listed once for its groups and policies. */
  clouds?: Array<{ cloud: string; region: string | null; listing: "complete" | "failed" }>;
  records: Array<{ group: string; record?: TickRecord; failure?: string }>;
  /** Groups whose work (some or all) waits for the next tick, in the order it will serve them. */
  deferred: DeferredEntry[];
  /** The snapshot policies' half (absent when there are none). */
  policies?: PolicyTickSummary;
  budget?: BudgetReport;
  /** The ring from this tick's cursor (`kind:name` keys), how many of it, from the cursor on, the tick reached, and how far the cursor moves for the next minute (docs/architecture.md "Fair turns"). */
  turn?: { rotated: string[]; reached: number; advance: number };
}

/**
 * Every rules entry for a tick: one KV read of the index the registry writes. When KV has no readable
 * index (a new deployment, a failed write, a location it has not reached yet), the registry's own is used.
 */
export async function loadRules(env: Env): Promise<RulesIndex> {
  const read = await readIndex(env.RULES);
  if (read.ok) return read.index;
  logLine("warn", "rules index unreadable in KV; asking the rules registry", { problem: read.problem });
  return registryStub(env).indexForTick();
}

/** Every group for a tick (see loadRules). */
export async function loadGroups(env: Env): Promise<ReadGroupResult[]> {
  return entriesOf(await loadRules(env), "group");
}

/**
 * What snapshot retention (groups' and policies') must never delete: every group's image and every image
 * a server was booted from. Undefined unless every rules entry was read: an unreadable group may name an
 * image we cannot see (then nothing is deleted this tick).
 */
export function tickGuard(
  groups: readonly ReadGroupResult[],
  policies: ReadonlyArray<{ ok: boolean }>,
  servers: readonly ObservedServer[],
): RetentionGuard | undefined {
  if (!groups.every((g) => g.ok) || !policies.every((p) => p.ok)) return undefined;
  // A power group names no image; the images its servers were booted from are guarded through the listing.
  const named = groups.flatMap((g) => (g.ok && g.envelope.rules.image !== undefined ? [{ name: g.name, image: g.envelope.rules.image }] : []));
  return retentionGuard(named, servers);
}

/**
 * One tick at `now` (the cron controller's scheduledTime): the groups, then the snapshot policies, on one
 * listing of the project's servers. With no groups and no policies it makes no cloud call at all.
 */
export async function runTick(env: Env, now: Date, options: TickOptions = {}): Promise<TickSummary> {
  const startedMs = Date.now();
  const [index, turns] = await Promise.all([loadRules(env), readTurns(env.RULES)]);
  const read = entriesOf(index, "group");
  const policyEntries = entriesOf(index, "snapshotPolicy");
  const { policies, unreadable: unreadablePolicies } = readablePolicies(policyEntries);
  const summary: TickSummary = { groups: read.length, unreadable: [], listing: "skipped", records: [], deferred: [] };

  const groups: StoredGroup[] = [];
  for (const r of read) {
    if (r.ok) groups.push(storedFrom(r.name, r.envelope));
    else {
      summary.unreadable.push(r.name);
      logLine("error", "skipping a group whose rules are unreadable", { group: r.name, problem: r.problem, at: now.toISOString() });
    }
  }
  if (groups.length === 0 && policies.length === 0) {
    if (unreadablePolicies.length > 0) summary.policies = { policies: unreadablePolicies.length, unreadable: unreadablePolicies, records: [], deferred: [] };
    return summary;
  }

  let budget = options.budget;
  if (budget === undefined) {
    const fromEnv = budgetFromEnv(env, Date.now());
    if (fromEnv.problem !== undefined) logLine("error", "bad budget setting", { problem: fromEnv.problem });
    budget = fromEnv.budget;
  }
  // Each cloud-region the groups and policies name is opened and listed once (tick-clouds.ts); bad settings give a
  // cloud whose every call fails with the reason: each group of that cloud records it as its error, the others go on.
  const clouds = cloudsOf(env);
  const laneOf = (rules: { cloud?: string | undefined; region?: string | undefined }) => placementKey(placementOf(clouds, rules));
  const concurrency = options.concurrency ?? TICK_GROUP_CONCURRENCY;
  const lanes = await openLanes(env, [...groups, ...policies].map((item) => placementOf(clouds, item.rules)), budget, options.cloudFactory, concurrency);
  const lane = (rules: { cloud?: string | undefined; region?: string | undefined }) => lanes.get(laneOf(rules)) as CloudLane;
  const failedLanes = [...lanes.values()].filter((l) => !l.listing.ok);
  summary.listing = failedLanes.length === 0 ? "complete" : "failed";
  summary.clouds = [...lanes.values()].map((l) => ({ cloud: l.placement.cloud, region: l.placement.region ?? null, listing: l.listing.ok ? "complete" : "failed" }));
  for (const l of failedLanes) {
    if (l.listing.ok) continue;
    const error = l.listing.error;
    logLine("error", "server listing failed", { at: now.toISOString(), cloud: l.placement.cloud, region: l.placement.region ?? null, tickRequestId: l.gateway.tickRequestId, operation: error.operation, category: error.category, error: error.message });
  }
  // Membership is the tag *within one cloud-region's listing*: a group is handed only servers of its own cloud's project and region.
  const byGroup = new Map<string, ObservedServer[]>();
  for (const l of lanes.values()) {
    if (!l.listing.ok) continue;
    const names = groups.filter((g) => laneOf(g.rules) === l.key).map((g) => g.name);
    for (const [name, members] of partitionByGroup(l.listing.value, names)) byGroup.set(name, members);
  }
  // What snapshot retention must never delete (only computed when some group or policy takes snapshots), per cloud-region listing.
  const anySnapshots = policies.length > 0 || groups.some((g) => g.rules.snapshots !== undefined);
  const guards = new Map<string, RetentionGuard | undefined>();
  const guardOf = (l: CloudLane): RetentionGuard | undefined => {
    if (!anySnapshots || !l.listing.ok) return undefined;
    if (!guards.has(l.key)) guards.set(l.key, tickGuard(read, policyEntries, l.listing.value));
    return guards.get(l.key);
  };

  // One order for groups and policies (core/scaling/turns.ts): the ring from its predicted cursor, groups then policies,
  // each part taken in turn across cloud-regions (interleaveBy) so that no cloud's items wait behind another's.
  const groupByName = new Map(groups.map((g) => [g.name, g]));
  const policyByName = new Map(policies.map((p) => [p.name, p]));
  const items: TurnItem[] = [...groups.map((g) => ({ kind: "group" as const, name: g.name })), ...policies.map((p) => ({ kind: "policy" as const, name: p.name }))];
  const due = duePolicies(policies, now);
  const turn = turnOrder(items, turns.state, now, due);
  const itemLane = (item: TurnItem) => laneOf(item.kind === "group" ? (groupByName.get(item.name) as StoredGroup).rules : (policyByName.get(item.name) as StoredPolicy).rules);
  const order = [
    ...interleaveBy(turn.order.filter((i) => i.kind === "group"), itemLane),
    ...interleaveBy(turn.order.filter((i) => i.kind === "policy" && due.has(i.name)), itemLane),
    ...interleaveBy(turn.order.filter((i) => i.kind === "policy" && !due.has(i.name)), itemLane),
  ];
  // Kept back for the policies while the groups run (their retries included); while one policy runs, the shares of those after it stay kept.
  const shares = policyReserves(turn.rotated, turns.state, due, budget.available());
  budget.keep(keptAfter(shares, order, -1));
  const releaseReserve = () => budget.keep(0);
  const policyRecords: PolicyTickSummary["records"] = [];
  // What the groups did this tick: a server deleted, parked or resumed is no snapshot source (createImage would answer 409); the listing predates it.
  const actedNow: Array<TickRecord["results"][number]> = [];

  const { unreached } = await serveTurns(order, { concurrency, budget, beforePolicy: (_item, index) => budget.keep(keptAfter(shares, order, index)) }, async (item) => {
    if (item.kind === "policy") {
      const policy = policyByName.get(item.name) as StoredPolicy;
      const { gateway, listing } = lane(policy.rules);
      const policyListing = listing.ok ? { ok: true as const, value: afterGroupSteps(listing.value, actedNow) } : listing;
      const result = await runPolicyTurn({ env, now, gateway, listing: policyListing, guard: guardOf(lane(policy.rules)) }, policy);
      policyRecords.push(result);
      return;
    }
    const group = groupByName.get(item.name) as StoredGroup;
    const { gateway, listing, listedAt } = lane(group.rules);
    const imageGuard = guardOf(lane(group.rules));
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
      const record = (await stub.reconcile(request, gateway)) as TickRecord;
      summary.records.push({ group: group.name, record });
      if (record.at === now.toISOString()) actedNow.push(...record.results);
    } catch (error) {
      const failure = error instanceof Error ? error.message : String(error);
      logLine("error", "group reconcile failed", { at: now.toISOString(), tickRequestId: gateway.tickRequestId, group: group.name, error: failure });
      summary.records.push({ group: group.name, failure });
    }
  });

  releaseReserve();
  const orderOf = (kind: TurnItem["kind"]) => turn.order.filter((i) => i.kind === kind).map((i) => i.name);
  const unreachedOf = (kind: TurnItem["kind"]) => unreached.filter((u) => u.item.kind === kind).map((u) => ({ name: u.item.name, reason: u.reason }));
  summary.deferred = deferredOf(orderOf("group"), summary.records.map((r) => ({ name: r.group, deferred: r.record?.deferred })), unreachedOf("group"), "group");
  if (policies.length > 0 || unreadablePolicies.length > 0) {
    const deferred = deferredOf(orderOf("policy"), policyRecords.map((r) => ({ name: r.policy, deferred: r.record?.deferred })), unreachedOf("policy"), "policy");
    summary.policies = { policies: policies.length + unreadablePolicies.length, unreadable: unreadablePolicies, records: policyRecords, deferred };
  }
  const deferredPolicies = summary.policies?.deferred ?? [];

  // How far the ring got: its items in order up to the first one that got nothing (never reached, or every step deferred).
  const starved = new Map<string, DeferredEntry["reason"]>();
  for (const u of unreached) starved.set(turnKey(u.item), u.reason);
  for (const r of summary.records) if (r.record?.deferred !== undefined && r.record.at === now.toISOString() && r.record.results.every((x) => x.outcome === "skipped")) starved.set(turnKey({ kind: "group", name: r.group }), r.record.deferred.reason);
  for (const r of policyRecords) if (r.record?.deferred !== undefined && r.record.at === now.toISOString() && r.record.steps.length === 0) starved.set(turnKey({ kind: "policy", name: r.policy }), r.record.deferred.reason);
  const ringPart = turn.rotated;
  const firstStarved = ringPart.findIndex((item) => starved.has(turnKey(item)));
  const reached = firstStarved < 0 ? ringPart.length : firstStarved;
  const reason = firstStarved < 0 ? "subrequests" : (starved.get(turnKey(ringPart[firstStarved] as TurnItem)) ?? "subrequests");
  const nextTurn = nextTurnState(turns.state, turn.ring, now, turn.cursor, reached, reason);
  summary.turn = { rotated: ringPart.map(turnKey), reached, advance: cursorAdvance(turns.state, turn.ring, now, turn.cursor, reached, nextTurn) };
  try {
    await writeTurns(env.RULES, turns, nextTurn, now.toISOString());
  } catch (error) {
    logLine("error", "could not store the turn order", { at: now.toISOString(), error: error instanceof Error ? error.message : String(error) });
  }
  summary.budget = budget.report();
  const at = now.toISOString();
  const tickRequestId = lanes.values().next().value?.gateway.tickRequestId;
  await recordTick(env, {
    at,
    durationMs: Date.now() - startedMs,
    subrequests: summary.budget.spent,
    subrequestLimit: summary.budget.limit,
    groups: groups.length,
    deferred: summary.deferred.length + deferredPolicies.length,
    listing: summary.listing,
    clouds: cloudStatuses(lanes.values(), at),
  });
  // One line per action (step result) of this tick: kind, outcome, servers, the error's redacted message.
  for (const r of summary.records) {
    if (r.record === undefined || r.record.at !== at) continue;
    const where = lane((groupByName.get(r.group) as StoredGroup).rules);
    for (const x of r.record.results) {
      logLine(x.outcome === "failed" ? "warn" : "info", "action", {
        at,
        tickRequestId: where.gateway.tickRequestId,
        cloud: where.placement.cloud,
        ...(where.placement.region === undefined ? {} : { region: where.placement.region }),
        group: r.group,
        step: x.step.kind,
        outcome: x.outcome,
        ...("count" in x.step ? { count: x.step.count } : {}),
        ...("serverId" in x.step ? { serverId: x.step.serverId } : {}),
        ...(x.serverIds === undefined ? {} : { serverIds: x.serverIds }),
        ...(x.imageId === undefined ? {} : { imageId: x.imageId }),
        reason: x.step.reason,
        ...(x.error === undefined ? {} : { error: x.error.message, category: x.error.category, status: x.error.status }),
      });
    }
  }
  for (const r of summary.policies?.records ?? []) {
    if (r.record === undefined || r.record.at !== at) continue;
    for (const step of r.record.steps) logLine("info", "policy action", { at, tickRequestId, policy: r.policy, step: step.kind });
  }
  // One line per tick (names and counts only: nothing secret).
  logLine(summary.records.some((r) => r.failure !== undefined) || summary.listing === "failed" ? "warn" : "info", "tick", {
    at,
    tickRequestId,
    durationMs: Date.now() - startedMs,
    groups: groups.length,
    policies: policies.length,
    unreadable: summary.unreadable.length,
    listing: summary.listing,
    actions: summary.records.reduce((n, r) => n + (r.record !== undefined && r.record.at === at ? r.record.results.length : 0), 0),
    failed: summary.records.filter((r) => r.failure !== undefined).map((r) => r.group),
    subrequests: summary.budget.spent,
    subrequestLimit: summary.budget.limit,
    deferred: [...summary.deferred.map((d) => d.name), ...deferredPolicies.map((d) => `policy ${d.name}`)],
  });
  return summary;
}
