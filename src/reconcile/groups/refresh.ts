// The rolling refresh in a reconcile: start on drift or request, probe health, plan (core/scaling/refresh-plan.ts), pin boots to the target.
import type { Desired, Notice, ObservedServer, Step } from "../../core/model/types.ts";
import type { GroupRules, RefreshHealthCheck } from "../../core/model/rules.ts";
import { parkMarkOf } from "../../core/scaling/parking.ts";
import { isDrifted, newRefreshState, shouldStartRefresh, type RefreshMember, type RefreshState, type RefreshTarget } from "../../core/scaling/refresh.ts";
import { flavorDriftNow, flavorLabel, type FlavorIds, type FlavorMark } from "../../core/scaling/flavors.ts";
import type { ResourceRef } from "../../core/model/rules.ts";
import { planRefresh, type RefreshExplain, type RefreshProgress } from "../../core/scaling/refresh-plan.ts";
import type { CloudPort } from "../gateway/gateway.ts";
import type { RefreshView } from "../../core/records.ts";
import type { PlanRefresh } from "../shared/service.ts";

/** A manual start (POST /v1/groups/{name}/refresh) waiting for the group's next reconcile, which pins the target. */
export interface RefreshRequest {
  author: string;
  at: string;
  ignoreWindow: boolean;
}

export interface RefreshTick {
  /** The refresh after this reconcile (undefined: none open). */
  state: RefreshState | undefined;
  /** Deletes (old or failed new servers) and the surge boot. */
  steps: Step[];
  /** New servers the refresh holds beyond desired before this tick's boots: the scaling plan plans for desired + held. */
  held: number;
  notices: Notice[];
  progress?: RefreshProgress;
  /** This tick's decision told per member and per cause (the dry run shows it). */
  explain?: RefreshExplain;
  /** True when this reconcile started a refresh (for the activity log). */
  started: boolean;
}

const PARKED_STATUSES = new Set(["SHUTOFF", "SHELVED", "SHELVED_OFFLOADED"]);
const GONE_STATUSES = new Set(["DELETED", "SOFT_DELETED"]);

/** What the refresh needs of the tick's flavor fallback: the preferences and the marks after this listing. */
export interface RefreshFlavors {
  preferences: readonly ResourceRef[];
  marks: readonly FlavorMark[];
}

export function refreshMember(server: ObservedServer, health?: "pass" | "fail", flavorDrift = false): RefreshMember {
  return {
    id: server.id,
    name: server.name,
    status: server.status,
    created: server.created,
    ...(server.imageId === undefined ? {} : { imageId: server.imageId }),
    ...(flavorDrift ? { flavorDrift } : {}),
    parked: parkMarkOf(server) !== undefined && PARKED_STATUSES.has(server.status),
    gone: GONE_STATUSES.has(server.status) || server.taskState === "deleting",
    ...(health === undefined ? {} : { health }),
  };
}

/**
 * Probes each new ACTIVE server's health URL ({ip}: its first address) once, from the Worker: the server
 * must be reachable from where the Worker runs (a public or tunnelled address), else it never passes.
 */
export async function probeHealth(check: RefreshHealthCheck, servers: readonly ObservedServer[]): Promise<Record<string, "pass" | "fail">> {
  const out: Record<string, "pass" | "fail"> = {};
  await Promise.all(
    servers.map(async (s) => {
      const ip = s.addresses?.[0];
      if (ip === undefined) return void (out[s.id] = "fail");
      const host = ip.includes(":") ? `[${ip}]` : ip;
      try {
        const answer = await fetch(check.url.replaceAll("{ip}", host), { signal: AbortSignal.timeout(check.timeoutMs), redirect: "manual" });
        await answer.body?.cancel();
        out[s.id] = answer.status >= 200 && answer.status < 300 ? "pass" : "fail";
      } catch {
        out[s.id] = "fail";
      }
    }),
  );
  return out;
}

/** The rules boots use while a refresh is open: the image pinned by id, so a later rename does not leak in. */
export function pinnedRules(rules: GroupRules, state: RefreshState | undefined): GroupRules {
  if (state === undefined || state.completedAt !== undefined || state.halted !== undefined) return rules;
  return { ...rules, image: { id: state.targetImageId } };
}

/**
 * Ids of the named preferences, only when the listing gives some member's flavor by id alone (before 2.47):
 * resolving costs calls (cached per tick by the gateway), and a 2.47+ listing names the flavor itself.
 */
async function flavorIds(members: readonly ObservedServer[], preferences: readonly ResourceRef[], cloud: Pick<CloudPort, "resolveFlavor">): Promise<FlavorIds> {
  if (!members.some((m) => m.flavorName === undefined && m.flavorId !== undefined)) return {};
  const ids: Record<string, string> = {};
  await Promise.all(
    preferences.map(async (ref) => {
      if (typeof ref !== "string") return;
      const resolved = await cloud.resolveFlavor(ref);
      if (resolved.ok) ids[ref] = resolved.value.id;
    }),
  );
  return ids;
}

/** Per member: whether its flavor is to be replaced now (core/scaling/flavors.ts flavorDriftNow). */
async function flavorDrifts(members: readonly ObservedServer[], flavors: RefreshFlavors, cloud: Pick<CloudPort, "resolveFlavor">, now: Date): Promise<Map<string, boolean>> {
  const out = new Map<string, boolean>();
  if (flavors.preferences.length === 0) return out;
  const ids = await flavorIds(members, flavors.preferences, cloud);
  for (const m of members) out.set(m.id, flavorDriftNow(m, flavors.preferences, flavors.marks, now, ids));
  return out;
}

/** One reconcile's refresh: start it if asked or drifted, then plan its steps. Never throws. */
export async function refreshTick(input: {
  group: string;
  rules: GroupRules;
  desired: Desired;
  members: readonly ObservedServer[];
  state: RefreshState | undefined;
  request: RefreshRequest | undefined;
  /** The tick's flavor preferences and marks (pipeline-flavors.ts planFlavor, after the listing). */
  flavors: RefreshFlavors;
  cloud: CloudPort;
  now: Date;
}): Promise<RefreshTick> {
  const { rules, cloud, now } = input;
  const none = (state: RefreshState | undefined, notices: Notice[] = []): RefreshTick => ({ state, steps: [], held: 0, notices, started: false });
  const refreshRules = rules.refresh;
  if (refreshRules === undefined || rules.image === undefined) return none(input.state);
  let state = input.state;
  let started = false;
  const preferred = input.flavors.preferences[0];
  const preferredLabel = preferred === undefined ? undefined : flavorLabel(preferred);
  const drifts = await flavorDrifts(input.members, input.flavors, cloud, now);
  // An open refresh toward another preferred flavor than the rules' now is looked at again, as a closed one is.
  const open = state !== undefined && state.completedAt === undefined && state.halted === undefined && state.targetFlavor === preferredLabel;
  if (input.request !== undefined || !open || state === undefined) {
    const resolved = await cloud.resolveImage(rules.image);
    if (!resolved.ok) return none(state, [{ level: "warning", code: "refresh-image-unresolved", message: `refresh not checked this tick: ${resolved.error.message}` }]);
    const target: RefreshTarget = { imageId: resolved.value.id, flavor: preferredLabel };
    const plain = input.members.map((m) => refreshMember(m, undefined, drifts.get(m.id)));
    if (input.request !== undefined) {
      state = newRefreshState(target, now.getTime(), "manual", input.request.ignoreWindow);
      started = true;
    } else if (shouldStartRefresh(refreshRules, state, plain, target)) {
      state = newRefreshState(target, now.getTime(), "drift");
      started = true;
    }
  }
  if (state === undefined || state.completedAt !== undefined) return { ...none(state), started };

  const target = { imageId: state.targetImageId };
  const check = refreshRules.healthCheck;
  const probed = check === undefined || state.halted !== undefined
    ? {}
    : await probeHealth(check, input.members.filter((m) => m.status === "ACTIVE" && !isDrifted(refreshMember(m, undefined, drifts.get(m.id)), target)));
  const members = input.members.map((m) => refreshMember(m, probed[m.id], drifts.get(m.id)));
  const planned = planRefresh({ group: input.group, rules: refreshRules, desired: input.desired.value, members, state, now: now.getTime() });
  const boots = planned.steps.reduce((n, s) => n + (s.kind === "boot" ? s.count : 0), 0);
  return { state: planned.state, steps: planned.steps, held: planned.surge - boots, notices: planned.notices, progress: planned.progress, explain: planned.explain, started };
}

/** The scaling plan's steps and the refresh's, without deleting one server twice (an ERROR new server is in both). */
export function mergeSteps(refresh: readonly Step[], planned: readonly Step[]): Step[] {
  const deleting = new Set(refresh.flatMap((s) => (s.kind === "delete" ? [s.serverId] : [])));
  return [...refresh.filter((s) => s.kind === "delete"), ...planned.filter((s) => !(s.kind === "delete" && deleting.has(s.serverId))), ...refresh.filter((s) => s.kind === "boot")];
}

/** What status and plan show of a refresh. */
export function refreshView(state: RefreshState): RefreshView {
  return {
    targetImageId: state.targetImageId,
    ...(state.targetFlavor === undefined ? {} : { targetFlavor: state.targetFlavor }),
    startedAt: state.startedAt,
    trigger: state.trigger,
    ignoreWindow: state.ignoreWindow,
    replaced: state.replaced,
    failed: state.failedIds.length,
    ...(state.halted === undefined ? {} : { halted: state.halted }),
    ...(state.completedAt === undefined ? {} : { completedAt: state.completedAt }),
  };
}

/** The dry run's view of this tick's refresh; null when there is none (never started, or no refresh rules). */
export function planRefreshView(tick: RefreshTick): PlanRefresh | null {
  const state = tick.state;
  if (state === undefined) return null;
  const explain: RefreshExplain = tick.explain ?? { members: [], boots: 0, waits: [] };
  const moves = explain.boots > 0 || explain.members.some((m) => m.action !== "wait" && m.action !== "keep");
  const phase = state.completedAt !== undefined ? "completed" : state.halted !== undefined ? "halted" : moves ? "open" : "waiting";
  return { ...refreshView(state), ...(tick.progress === undefined ? {} : { progress: tick.progress }), ...explain, phase, startsNow: tick.started };
}
