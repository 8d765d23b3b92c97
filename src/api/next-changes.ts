// Adapts the core's timeline to the API: change points for /timeline and the "next changes" in status.
import type { DesiredOptions } from "../core/schedule/desired.ts";
import { changePoints, type Timeline, type TimelinePoint } from "../core/schedule/timeline.ts";
import type { GroupStatus } from "../reconcile/shared/service.ts";

export type ChangePoint = TimelinePoint;

function optionsOf(status: GroupStatus): DesiredOptions {
  const pausedBy = status.pause?.by;
  // The live signals' ends are change points too: the count falls back to the schedule there.
  return { ...(pausedBy === undefined ? {} : { pausedBy }), signals: status.signals };
}

/** The effective desired count from `now` over `hours`, as change points (the first is the value now), and whether it was cut short. */
export function timelineOf(status: GroupStatus, now: Date, hours: number): Timeline {
  return changePoints(status.group.rules, status.override ?? undefined, now, hours, optionsOf(status));
}

/** The next scheduled changes after now (24 h ahead, at most `max`): the walk stops once it has them. */
export function nextChanges(status: GroupStatus, now: Date, max = 5): ChangePoint[] {
  return changePoints(status.group.rules, status.override ?? undefined, now, 24, optionsOf(status), max)
    .points.filter((p) => Date.parse(p.at) > now.getTime())
    .slice(0, max);
}
