// The effective desired count over the coming hours, as change points (for the API's preview of a group).
import type { GroupRules, Override } from "../config/group.ts";
import type { Desired } from "./types.ts";
import { decideDesired, decidingEntry, overrideActive, type DesiredOptions } from "./desired.ts";
import { latestFiring, nextFiring } from "./schedule.ts";

export interface TimelinePoint {
  /** ISO-8601 UTC instant from which this value holds. */
  at: string;
  value: number;
  reason: string;
  source: Desired["source"];
}

/** The longest window a timeline covers; longer requests are cut to it. */
export const TIMELINE_MAX_HOURS = 24 * 31;
/** At most this many firings are examined, so a minutely entry cannot make a preview expensive (about 0.1 ms each). */
export const TIMELINE_MAX_EVENTS = 2_000;

/**
 * The desired count from `from` over the next `hours`: the first point is the value at `from`, then
 * one point each time the value or its source changes (a schedule firing, the override expiring).
 * It walks the firings of all entries in time order and applies the same decision as desiredCount at
 * each of them, so a point's value is exactly what desiredCount returns at that instant. Work is
 * bounded: the window is at most TIMELINE_MAX_HOURS, and after TIMELINE_MAX_EVENTS firings it stops.
 */
export function timeline(rules: GroupRules, override: Override | undefined, from: Date, hours: number, opts: DesiredOptions = {}): TimelinePoint[] {
  const windowHours = Number.isFinite(hours) ? Math.min(Math.max(hours, 0), TIMELINE_MAX_HOURS) : 0;
  const until = from.getTime() + windowHours * 3_600_000;
  const entries = rules.schedules;
  const latest = entries.map((entry) => latestFiring(entry, from));
  const upcoming = entries.map((entry) => nextFiring(entry, from));
  let overrideEnds = overrideActive(override, from) ? Date.parse(override.until) : undefined;

  let current = decideDesired(rules, override, from, decidingEntry(entries, latest), opts);
  const points: TimelinePoint[] = [toPoint(from, current)];

  for (let events = 0; events < TIMELINE_MAX_EVENTS; events += 1) {
    let t = overrideEnds;
    for (const next of upcoming) if (next !== undefined && (t === undefined || next.getTime() < t)) t = next.getTime();
    if (t === undefined || t > until) break;
    const at = new Date(t);
    entries.forEach((entry, i) => {
      if (upcoming[i]?.getTime() === t) {
        latest[i] = at;
        upcoming[i] = nextFiring(entry, at);
      }
    });
    if (overrideEnds === t) overrideEnds = undefined;
    const desired = decideDesired(rules, override, at, decidingEntry(entries, latest), opts);
    if (desired.value !== current.value || desired.source !== current.source) points.push(toPoint(at, desired));
    current = desired;
  }
  return points;
}

function toPoint(at: Date, desired: Desired): TimelinePoint {
  return { at: at.toISOString(), value: desired.value, reason: desired.reason, source: desired.source };
}
