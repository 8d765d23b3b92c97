// Adapts the core's timeline to the API: change points for /timeline and the "next changes" in status.
import type { GroupStatus } from "../reconcile/service.ts";

export interface ChangePoint {
  at: string;
  value: number;
  reason: string;
}

/** The effective desired count from `now` over `hours`, as change points (first: the value now). */
export function timelineOf(_status: GroupStatus, _now: Date, _hours: number): ChangePoint[] {
  return []; // replaced by the core's timeline() once src/core/timeline.ts lands
}

/** The next scheduled changes after now (24 h ahead, at most `max`). */
export function nextChanges(status: GroupStatus, now: Date, max = 5): ChangePoint[] {
  return timelineOf(status, now, 24)
    .filter((p) => Date.parse(p.at) > now.getTime())
    .slice(0, max);
}
