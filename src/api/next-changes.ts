// Adapts the core's timeline to the API: change points for /timeline and the "next changes" in status.
import { timeline, type TimelinePoint } from "../core/timeline.ts";
import type { GroupStatus } from "../reconcile/service.ts";

export type ChangePoint = TimelinePoint;

/** The effective desired count from `now` over `hours`, as change points (the first is the value now). */
export function timelineOf(status: GroupStatus, now: Date, hours: number): ChangePoint[] {
  const pausedBy = status.pause?.by;
  return timeline(status.group.rules, status.override ?? undefined, now, hours, pausedBy === undefined ? {} : { pausedBy });
}

/** The next scheduled changes after now (24 h ahead, at most `max`). */
export function nextChanges(status: GroupStatus, now: Date, max = 5): ChangePoint[] {
  return timelineOf(status, now, 24)
    .filter((p) => Date.parse(p.at) > now.getTime())
    .slice(0, max);
}
