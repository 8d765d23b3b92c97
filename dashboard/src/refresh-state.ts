// The rolling refresh as the dashboard reads it: one phase from the status's `refresh` and `refreshRequest`, the counts it shows, each member old or new (pure, no DOM).
import type { GroupStatus, RefreshView } from "./types.ts";

/** The config's default (src/config/group.ts), for rules stored before the default was written out. */
export const DEFAULT_FAILURE_THRESHOLD = 2;

/**
 * waiting: a manual start the next tick takes up (it replaces whatever refresh is open);
 * running: open (maybe outside a window: `waitingForWindow`); done / halted: closed; none: never started.
 */
export type RefreshPhase = "none" | "waiting" | "running" | "done" | "halted";

export interface RefreshSummary {
  phase: RefreshPhase;
  /** The phase in words, for the badge. */
  label: string;
  /** Open or waiting: what the Cancel button stops. */
  cancellable: boolean;
  /** Running but outside every disruption window (and not started with ignoreWindow). */
  waitingForWindow: boolean;
  /** Members replaced of those the refresh has to replace (old ones left, parked or not, plus those replaced); undefined before its first tick's count. */
  replacedOf?: { replaced: number; total: number };
  failed: number;
  failureThreshold: number;
}

const LABELS: Record<RefreshPhase, string> = { none: "none yet", waiting: "waiting to start", running: "in progress", done: "done", halted: "halted" };

/** Whether the rules have a `refresh` (only then may one be started: the API answers 409 otherwise). */
export function hasRefreshRules(rules: Record<string, unknown>): boolean {
  const r = rules["refresh"];
  return typeof r === "object" && r !== null;
}

function phaseOf(refresh: RefreshView | null, waiting: boolean): RefreshPhase {
  if (waiting) return "waiting";
  if (refresh === null) return "none";
  if (refresh.halted !== undefined) return "halted";
  if (refresh.completedAt !== undefined) return "done";
  return "running";
}

export function refreshSummary(s: Pick<GroupStatus, "rules" | "refresh" | "refreshRequest">): RefreshSummary {
  const refresh = s.refresh ?? null;
  const phase = phaseOf(refresh, (s.refreshRequest ?? null) !== null);
  const progress = refresh?.progress;
  const threshold = Number((s.rules["refresh"] as { failureThreshold?: unknown } | undefined)?.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD);
  const waitingForWindow = phase === "running" && progress !== undefined && !progress.inWindow;
  return {
    phase,
    label: waitingForWindow ? "in progress, waiting for a window" : LABELS[phase],
    cancellable: phase === "waiting" || phase === "running",
    waitingForWindow,
    ...(progress === undefined || phase === "waiting" ? {} : { replacedOf: { replaced: progress.replaced, total: progress.replaced + progress.old + progress.oldParked } }),
    failed: refresh?.failed ?? 0,
    failureThreshold: Number.isFinite(threshold) ? threshold : DEFAULT_FAILURE_THRESHOLD,
  };
}

/** The overview's marker: a refresh is open or about to start. */
export function isRefreshing(s: Pick<GroupStatus, "rules" | "refresh" | "refreshRequest">): boolean {
  return refreshSummary(s).cancellable;
}

/**
 * The image a member is measured against: the pinned target of a refresh that is open or halted (a halt
 * is final for its target, so members stay measured against it), else what the rules' image resolves to
 * now (null: unknown, no old/new shown).
 */
export function targetImage(refresh: RefreshView | null | undefined, resolvedImageId: string | null): string | null {
  if (refresh !== null && refresh !== undefined && refresh.completedAt === undefined) return refresh.targetImageId;
  return resolvedImageId;
}

/** "new" on the target, "old" on another image, null when either is unknown. */
export function imageAge(imageId: string | null, target: string | null): "new" | "old" | null {
  if (imageId === null || target === null) return null;
  return imageId === target ? "new" : "old";
}
