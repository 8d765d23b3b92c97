// Rolling refresh, the data: its pinned state, members as the refresh sees them, drift, and the window test.
import type { RefreshRules } from "../model/rules.ts";
import { nextWindowEdge, openingAt } from "../schedule/windows.ts";

/** What the group's Durable Object keeps of an open refresh (zod-parsed there): the target is pinned at start. */
export interface RefreshState {
  /** The image id members are moved to, fixed when the refresh started (a later rename starts a new refresh). */
  targetImageId: string;
  /**
   * The rules' preferred flavor at start (flavors.ts flavorLabel: its name, or "id <id>"). Which members
   * drifted from it is the shell's per-member answer (RefreshMember.flavorDrift): a member on a listed
   * fallback is not drift while the preferred flavor is marked unavailable. A new preferred flavor in the
   * rules starts a new refresh, as a new image id does.
   */
  targetFlavor?: string;
  startedAt: string;
  /** How it started: drift seen by a tick, or a manual POST (which may ignore the windows). */
  trigger: "drift" | "manual";
  ignoreWindow: boolean;
  /** Old members deleted by this refresh (each after a new one was ready). */
  replaced: number;
  /** New servers of this refresh that failed (ERROR, or unhealthy past the grace), by id: each counted once. */
  failedIds: string[];
  /** When each new server was first seen ACTIVE (its health grace runs from there). */
  activeSince: Record<string, string>;
  /** Set when the refresh halted (failure threshold): it does nothing more until started again. */
  halted?: { reason: string; at: string };
  /** Set when no member is left on an old image or flavor. */
  completedAt?: string;
}

/** One member as the refresh sees it. `health` is the last probe's answer (absent: not probed, or no check). */
export interface RefreshMember {
  id: string;
  name: string;
  status: string;
  created: string;
  imageId?: string;
  /** Its flavor is to be replaced now (core/scaling/flavors.ts flavorDriftNow): absent means no. */
  flavorDrift?: boolean;
  /** Parked by novascale (shelved/stopped): refreshed when it is resumed. */
  parked: boolean;
  /** Going away (task deleting / DELETED): counts for nothing. */
  gone: boolean;
  health?: "pass" | "fail";
}

/** What a refresh moves members to: an image id, and the label of the preferred flavor when the rules name one. */
export interface RefreshTarget {
  imageId: string;
  flavor?: string | undefined;
}

export function newRefreshState(target: RefreshTarget, now: number, trigger: "drift" | "manual", ignoreWindow = false): RefreshState {
  return {
    targetImageId: target.imageId,
    ...(target.flavor === undefined ? {} : { targetFlavor: target.flavor }),
    startedAt: new Date(now).toISOString(),
    trigger,
    ignoreWindow,
    replaced: 0,
    failedIds: [],
    activeSince: {},
  };
}

/** Whether a member still runs an old image or a flavor to be replaced (a volume-backed member without an image id: flavor only). */
export function isDrifted(member: Pick<RefreshMember, "imageId" | "flavorDrift">, target: Pick<RefreshTarget, "imageId">): boolean {
  if (member.imageId !== undefined && member.imageId !== target.imageId) return true;
  return member.flavorDrift === true;
}

/**
 * Whether a tick starts a refresh: the group has refresh rules, some member (live or parked) has drifted
 * from what its image and flavor now resolve to, and no refresh is open toward that same target. An open
 * or halted refresh toward the same target is left as it is (a halted one waits for a manual start); a
 * newer target replaces it.
 */
export function shouldStartRefresh(
  rules: RefreshRules | undefined,
  state: RefreshState | undefined,
  members: readonly Pick<RefreshMember, "imageId" | "flavorDrift" | "gone">[],
  resolved: RefreshTarget,
): boolean {
  if (rules === undefined) return false;
  const sameTarget = state !== undefined && state.completedAt === undefined && state.targetImageId === resolved.imageId && state.targetFlavor === resolved.flavor;
  if (sameTarget) return false;
  return members.some((m) => !m.gone && isDrifted(m, resolved));
}

/** Whether replacing may happen at `now`: no windows, a manual start that ignores them, or inside one. */
export function inRefreshWindow(rules: Pick<RefreshRules, "windows" | "timezone">, now: number, ignoreWindow: boolean): boolean {
  if (ignoreWindow || rules.windows.length === 0) return true;
  return rules.windows.some((w) => openingAt(w, rules.timezone, now) !== undefined);
}

/**
 * When the next disruption window opens after `now` (called outside every window, so each window's next
 * edge is an opening), within the next week; undefined without windows or none that soon.
 */
export function nextRefreshWindow(rules: Pick<RefreshRules, "windows" | "timezone">, now: number): number | undefined {
  let next: number | undefined;
  for (const w of rules.windows) {
    const edge = nextWindowEdge(w, rules.timezone, now);
    if (edge !== undefined && (next === undefined || edge < next)) next = edge;
  }
  return next;
}
