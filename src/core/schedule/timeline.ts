// The effective desired count over the coming hours, as change points built from edges, not from every firing.
import type { GroupRules, Override, PointEntry } from "../model/rules.ts";
import type { Desired } from "../model/types.ts";
import { nextExceptionEdge } from "./calendar.ts";
import { decide, overrideActive, pointEntries, windowEntries, type Decision, type DesiredOptions, type IndexedEntry } from "./desired.ts";
import { firingsContained, nextFiring } from "./schedule.ts";
import { nextWindowEdge } from "./windows.ts";

export interface TimelinePoint {
  /** ISO-8601 UTC instant from which this value holds. */
  at: string;
  value: number;
  reason: string;
  source: Desired["source"];
}

export interface Timeline {
  points: TimelinePoint[];
  /** True when the work bound stopped the walk before the end of the window: points are complete only up to `through`. */
  truncated: boolean;
  /** ISO-8601 UTC instant up to which the points are complete (the end of the window unless truncated). */
  through: string;
}

/** The longest window a timeline covers; longer requests are cut to it. */
export const TIMELINE_MAX_HOURS = 24 * 31;
/**
 * At most this many candidate instants are examined. Candidates are window and exception edges, the
 * override's end, and firings of point entries that could change the count; each costs one decision.
 */
export const TIMELINE_MAX_EVENTS = 1_000;

/**
 * Point entries that can ever decide: an entry whose every firing is provably also a firing of an
 * entry with a larger (or, for the later of two, equal) clamped value never changes the count, so
 * fifty minutely entries cost what one does.
 */
/** A count as min/max let it stand. */
function withinLimits(v: number, rules: GroupRules): number {
  return Math.min(Math.max(v, rules.min), rules.max);
}

function deciders(rules: GroupRules): Array<IndexedEntry<PointEntry>> {
  const entries = pointEntries(rules);
  const value = (e: PointEntry): number => withinLimits(e.desired, rules);
  return entries.filter((f) =>
    !entries.some((g) => {
      if (g === f) return false;
      const vf = value(f.entry);
      const vg = value(g.entry);
      if (vg < vf || !firingsContained(f.entry, g.entry)) return false;
      return vg > vf || !firingsContained(g.entry, f.entry) || g.index < f.index;
    }),
  );
}

/**
 * The desired count from `from` over the next `hours`: the first point is the value at `from`, then
 * one point each time the value or its source changes. Each point is exactly what desiredCount
 * returns at its instant (the same `decide`). The walk jumps from candidate to candidate: the
 * override's end, window and exception edges, and the next firing of each point entry whose value
 * differs from the current one, and only while no higher layer (override, exception, window) holds.
 * So its cost follows the changes it returns, not the firings in the window. `maxPoints` stops early
 * (the status's "next changes"); TIMELINE_MAX_EVENTS bounds pathological rules, and says so.
 */
export function changePoints(
  rules: GroupRules,
  override: Override | undefined,
  from: Date,
  hours: number,
  opts: DesiredOptions = {},
  maxPoints = Number.POSITIVE_INFINITY,
): Timeline {
  const windowHours = Number.isFinite(hours) ? Math.min(Math.max(hours, 0), TIMELINE_MAX_HOURS) : 0;
  const until = from.getTime() + windowHours * 3_600_000;
  const points = deciders(rules);
  const windows = windowEntries(rules);
  const upcoming = new Map<number, number | undefined>();
  const nextOf = (e: IndexedEntry<PointEntry>, t: number): number | undefined => {
    const cached = upcoming.get(e.index);
    if (upcoming.has(e.index) && (cached === undefined || cached > t)) return cached;
    const next = nextFiring(e.entry, new Date(t))?.getTime();
    upcoming.set(e.index, next);
    return next;
  };

  let t = from.getTime();
  let current: Decision = decide(rules, override, from, opts);
  const out: TimelinePoint[] = [toPoint(from, current.desired)];
  for (let examined = 0; examined < TIMELINE_MAX_EVENTS; examined += 1) {
    let next: number | undefined;
    const consider = (c: number | undefined): void => {
      if (c !== undefined && c > t && (next === undefined || c < next)) next = c;
    };
    if (current.layer === "override") {
      consider(overrideActive(override, new Date(t)) ? Date.parse(override.until) : undefined);
    } else {
      // A live signal's end: the count falls back to the schedule there.
      for (const s of opts.signals ?? []) consider(Date.parse(s.until));
      for (const e of rules.exceptions) consider(nextExceptionEdge(e, t));
      if (current.layer !== "exception") for (const { entry } of windows) consider(nextWindowEdge(entry.window, entry.timezone, t));
      if (current.layer === "point" || current.layer === "default") {
        // From the default, any firing changes the source; from an entry, only a different value matters.
        for (const e of points) if (current.layer === "default" || withinLimits(e.entry.desired, rules) !== current.desired.value) consider(nextOf(e, t));
      }
    }
    if (next === undefined || next > until) return { points: out, truncated: false, through: new Date(until).toISOString() };
    t = next;
    const decision = decide(rules, override, new Date(t), opts);
    if (decision.desired.value !== current.desired.value || decision.desired.source !== current.desired.source) {
      out.push(toPoint(new Date(t), decision.desired));
      if (out.length > maxPoints) return { points: out, truncated: false, through: new Date(t).toISOString() };
    }
    current = decision;
  }
  return { points: out, truncated: true, through: new Date(t).toISOString() };
}

/** The change points only (see changePoints). */
export function timeline(rules: GroupRules, override: Override | undefined, from: Date, hours: number, opts: DesiredOptions = {}): TimelinePoint[] {
  return changePoints(rules, override, from, hours, opts).points;
}

function toPoint(at: Date, desired: Desired): TimelinePoint {
  return { at: at.toISOString(), value: desired.value, reason: desired.reason, source: desired.source };
}
