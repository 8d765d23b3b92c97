// Rolling refresh, the decision: which new servers to boot, which old ones to delete, when to halt and roll back.
import type { RefreshRules } from "../model/rules.ts";
import type { Notice, Step } from "../model/types.ts";
import { inRefreshWindow, isDrifted, nextRefreshWindow, type RefreshMember, type RefreshState } from "./refresh.ts";

/*
 * Surge first, always: an old member is deleted only when a new one (on the pinned target) is ACTIVE and,
 * with a health check, has passed it, and only while that leaves at least minInService ACTIVE healthy
 * members. Each old deletion is paired with one ready new server (state.replaced counts them), so a
 * refresh never shrinks the group below what it had. At most maxSurge new servers are on the way or
 * unpaired at a time. A new server fails when it is ERROR, or (with a health check) ACTIVE and failing
 * past graceSeconds; a failed one is deleted, and at failureThreshold failures the refresh halts and
 * rolls back: every new server not yet ready is deleted, the old ones stay.
 */

export interface RefreshPlanInput {
  group: string;
  rules: RefreshRules;
  /** The group's desired count now: minInService's default. */
  desired: number;
  members: readonly RefreshMember[];
  state: RefreshState;
  now: number;
}

export interface RefreshPlan {
  /** Boots (count) on the pinned target image, and deletes of old or failed new servers. */
  steps: Step[];
  state: RefreshState;
  notices: Notice[];
  /** Members beyond `desired` the refresh holds on purpose: the scaling plan must not trim them. */
  surge: number;
  progress: RefreshProgress;
  /** The same decision told per member and per cause, for the dry run (GET .../plan). */
  explain: RefreshExplain;
}

/** What this tick does with one member of the refresh, and why. */
export interface RefreshMemberPlan {
  serverId: string;
  serverName: string;
  /**
   * replace: an old member deleted now (a ready new server took its place); wait: an old member left this
   * tick (`code` says why); delete-failed: a new server that failed; roll-back: a new server not yet ready,
   * deleted because the refresh halted; keep: an old member a halted refresh leaves for good.
   */
  action: "replace" | "wait" | "delete-failed" | "roll-back" | "keep";
  code?: RefreshWaitCode;
  reason: string;
}

export type RefreshWaitCode = "outside-window" | "min-in-service" | "max-surge" | "parked" | "halted";

/** Why the refresh does not replace more this tick: one entry per cause. */
export interface RefreshWait {
  code: RefreshWaitCode;
  message: string;
}

export interface RefreshExplain {
  members: RefreshMemberPlan[];
  /** New servers booted on the target this tick. */
  boots: number;
  waits: RefreshWait[];
}

export interface RefreshProgress {
  old: number;
  oldParked: number;
  newReady: number;
  newPending: number;
  failed: number;
  replaced: number;
  inService: number;
  minInService: number;
  inWindow: boolean;
  /** Outside every window: when the next one opens (so status can say how long replacing waits). */
  nextWindowAt?: string;
}

const isActive = (m: RefreshMember): boolean => m.status === "ACTIVE";

/** minInService as the rules give it, else the desired count. */
export function minInServiceOf(rules: Pick<RefreshRules, "minInService">, desired: number): number {
  return rules.minInService ?? desired;
}

export function planRefresh(input: RefreshPlanInput): RefreshPlan {
  const { group, rules, state: before, now } = input;
  const target = { imageId: before.targetImageId };
  // How messages name the target: the image, and the preferred flavor when the rules name one.
  const aim = before.targetFlavor === undefined ? `image ${target.imageId}` : `image ${target.imageId}, flavor ${before.targetFlavor}`;
  const nowIso = new Date(now).toISOString();
  const state: RefreshState = { ...before, failedIds: [...before.failedIds], activeSince: { ...before.activeSince } };
  const live = input.members.filter((m) => !m.gone && !m.parked);
  const old = live.filter((m) => isDrifted(m, target));
  const oldParked = input.members.filter((m) => !m.gone && m.parked && isDrifted(m, target)).length;
  const fresh = live.filter((m) => !isDrifted(m, target));
  const graceMs = (rules.healthCheck?.graceSeconds ?? 0) * 1000;

  for (const m of fresh) if (isActive(m) && state.activeSince[m.id] === undefined) state.activeSince[m.id] = nowIso;
  // Forget servers that are gone from the listing: the record stays small.
  const liveIds = new Set(input.members.map((m) => m.id));
  for (const id of Object.keys(state.activeSince)) if (!liveIds.has(id)) delete state.activeSince[id];

  const ready = (m: RefreshMember): boolean => isActive(m) && (rules.healthCheck === undefined || m.health === "pass");
  const failure = (m: RefreshMember): string | undefined => {
    if (m.status === "ERROR") return "ERROR on boot";
    if (rules.healthCheck === undefined || !isActive(m) || m.health === "pass") return undefined;
    const since = Date.parse(state.activeSince[m.id] ?? nowIso);
    if (now - since < graceMs) return undefined;
    return m.health === "fail" ? `health check failing ${rules.healthCheck.graceSeconds} s after ACTIVE` : `no passing health check ${rules.healthCheck.graceSeconds} s after ACTIVE`;
  };

  const steps: Step[] = [];
  const notices: Notice[] = [];
  // Each delete is told twice: as a step, and as the member's plan in the dry run's words.
  const deleted: RefreshMemberPlan[] = [];
  const remove = (m: RefreshMember, action: RefreshMemberPlan["action"], reason: string): void => {
    steps.push({ kind: "delete", group, serverId: m.id, serverName: m.name, reason });
    deleted.push({ serverId: m.id, serverName: m.name, action, reason });
  };
  const failedNow = fresh.map((m) => ({ m, why: failure(m) })).filter((f): f is { m: RefreshMember; why: string } => f.why !== undefined);
  for (const { m } of failedNow) if (!state.failedIds.includes(m.id)) state.failedIds.push(m.id);
  const newReady = fresh.filter(ready);
  const pending = fresh.filter((m) => !ready(m) && failure(m) === undefined);
  const inService = old.filter(isActive).length + newReady.length;
  const minInService = minInServiceOf(rules, input.desired);
  const inWindow = inRefreshWindow(rules, now, state.ignoreWindow);
  const nextWindow = inWindow ? undefined : nextRefreshWindow(rules, now);
  const progress = (): RefreshProgress => ({
    old: old.length,
    oldParked,
    newReady: newReady.length,
    newPending: pending.length,
    failed: state.failedIds.length,
    replaced: state.replaced,
    inService,
    minInService,
    inWindow,
    ...(nextWindow === undefined ? {} : { nextWindowAt: new Date(nextWindow).toISOString() }),
  });

  for (const { m, why } of failedNow) {
    remove(m, "delete-failed", `refresh: new server on ${aim} failed (${why}); deleted, the old members stay`);
  }

  if (state.halted === undefined && state.failedIds.length >= rules.failureThreshold) {
    state.halted = { reason: `${state.failedIds.length} new server(s) failed (threshold ${rules.failureThreshold}): refresh to ${aim} halted and rolled back`, at: nowIso };
  }
  if (state.halted !== undefined) {
    // Roll back: new servers still on their way go too; ready ones already replaced an old one and stay.
    for (const m of pending) remove(m, "roll-back", `refresh halted: rolling back a new server not yet ready (${state.halted.reason})`);
    notices.push({ level: "error", code: "refresh-halted", message: state.halted.reason });
    const why = `refresh halted: ${state.halted.reason}`;
    const explain: RefreshExplain = {
      members: [...deleted, ...old.map((m) => ({ serverId: m.id, serverName: m.name, action: "keep" as const, code: "halted" as const, reason: why }))],
      boots: 0,
      waits: [{ code: "halted", message: why }],
    };
    return { steps, state, notices, surge: 0, progress: progress(), explain };
  }

  if (old.length === 0 && oldParked === 0 && pending.length === 0) {
    state.completedAt = nowIso;
    notices.push({ level: "info", code: "refresh-complete", message: `no member left to replace: every one runs ${aim} (or a listed fallback flavor while the preferred one is unavailable); ${state.replaced} replaced` });
    return { steps, state, notices, surge: 0, progress: progress(), explain: { members: deleted, boots: 0, waits: [] } };
  }

  const unpaired = Math.max(0, newReady.length - state.replaced);
  const parkedWait: RefreshWait[] = oldParked > 0 ? [{ code: "parked", message: `${oldParked} parked member(s) on an old image or flavor are refreshed when resumed` }] : [];
  if (!inWindow) {
    const message = `${old.length + oldParked} member(s) wait for a disruption window (${rules.windows.join(", ")} ${rules.timezone})`;
    notices.push({ level: "info", code: "refresh-outside-window", message });
    const explain: RefreshExplain = {
      members: [...deleted, ...old.map((m) => ({ serverId: m.id, serverName: m.name, action: "wait" as const, code: "outside-window" as const, reason: `outside the disruption windows (${rules.windows.join(", ")} ${rules.timezone})` }))],
      boots: 0,
      waits: [{ code: "outside-window", message }, ...parkedWait],
    };
    return { steps, state, notices, surge: pending.length + unpaired, progress: progress(), explain };
  }

  // Delete old members: one per unpaired ready new server, never below minInService ACTIVE healthy.
  const deletable = Math.max(0, Math.min(old.length, unpaired, inService - minInService));
  const victims = [...old].sort((a, b) => (isActive(a) === isActive(b) ? (a.created < b.created ? -1 : a.created > b.created ? 1 : a.id < b.id ? -1 : 1) : isActive(a) ? 1 : -1));
  // An old member that is not ACTIVE is not in service: replacing it first costs no capacity.
  for (const m of victims.slice(0, deletable)) {
    remove(m, "replace", `refresh: replaced by a ready server on ${aim}`);
  }
  state.replaced += deletable;

  const surgeHeld = pending.length + (unpaired - deletable);
  const boots = Math.max(0, Math.min(rules.maxSurge - surgeHeld, old.length - deletable - surgeHeld));
  if (boots > 0) steps.push({ kind: "boot", group, count: boots, reason: `refresh: surge ${boots} on ${aim} ahead of ${old.length - deletable} old member(s)` });
  if (oldParked > 0 && old.length === 0) {
    notices.push({ level: "info", code: "refresh-parked", message: `${oldParked} parked member(s) on an old image are refreshed when resumed` });
  }

  // Why the old members left this tick wait: minInService when it cut the deletes, else the surge's pace.
  const waits: RefreshWait[] = [];
  const byMinInService = inService - minInService < Math.min(old.length, unpaired);
  if (byMinInService) {
    waits.push({ code: "min-in-service", message: `minInService ${minInService}: ${inService} ACTIVE healthy in service, so ${Math.max(0, inService - minInService)} old member(s) may go now` });
  }
  const left = old.length - deletable;
  if (left > 0 && !byMinInService) {
    waits.push({ code: "max-surge", message: `maxSurge ${rules.maxSurge}: ${surgeHeld + boots} new server(s) on the way or not yet paired; ${left} old member(s) wait for one to be ready` });
  }
  const waitCode: RefreshWaitCode = byMinInService ? "min-in-service" : "max-surge";
  const waitReason = waits.find((w) => w.code === waitCode)?.message ?? "";
  const replacedNow = new Set(victims.slice(0, deletable).map((m) => m.id));
  const explain: RefreshExplain = {
    members: [
      ...deleted,
      ...victims.filter((m) => !replacedNow.has(m.id)).map((m) => ({ serverId: m.id, serverName: m.name, action: "wait" as const, code: waitCode, reason: waitReason })),
    ],
    boots,
    waits: [...waits, ...parkedWait],
  };
  return { steps, state, notices, surge: surgeHeld + boots, progress: progress(), explain };
}
