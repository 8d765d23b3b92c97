// Rolling refresh, the data: its pinned state, members as the refresh sees them, drift, and the window test.
import type { RefreshRules } from "../model/rules.ts";
import { nextWindowEdge, openingAt } from "../schedule/windows.ts";

/** What the group's Durable Object keeps of an open refresh (zod-parsed there): the target is pinned at start. */
export interface RefreshState {
  /** The image id members are moved to, fixed when the refresh started (a later rename starts a new refresh). */
  targetImageId: string;
  /** The group's resolved flavor id at start, when known: a member with another flavor id has drifted too. */
  targetFlavorId?: string;
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
  flavorId?: string;
  /** Parked by novascale (shelved/stopped): refreshed when it is resumed. */
  parked: boolean;
  /** Going away (task deleting / DELETED): counts for nothing. */
  gone: boolean;
  health?: "pass" | "fail";
}

export function newRefreshState(target: { imageId: string; flavorId?: string }, now: number, trigger: "drift" | "manual", ignoreWindow = false): RefreshState {
  return {
    targetImageId: target.imageId,
    ...(target.flavorId === undefined ? {} : { targetFlavorId: target.flavorId }),
    startedAt: new Date(now).toISOString(),
    trigger,
    ignoreWindow,
    replaced: 0,
    failedIds: [],
    activeSince: {},
  };
}

/** Whether a member still runs an old image or flavor (a volume-backed member without an image id: flavor only). */
export function isDrifted(member: Pick<RefreshMember, "imageId" | "flavorId">, target: { imageId: string; flavorId?: string | undefined }): boolean {
  if (member.imageId !== undefined && member.imageId !== target.imageId) return true;
  return target.flavorId !== undefined && member.flavorId !== undefined && member.flavorId !== target.flavorId;
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
  members: readonly Pick<RefreshMember, "imageId" | "flavorId" | "gone">[],
  resolved: { imageId: string; flavorId?: string },
): boolean {
  if (rules === undefined) return false;
  const sameTarget = state !== undefined && state.completedAt === undefined && state.targetImageId === resolved.imageId && state.targetFlavorId === resolved.flavorId;
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
