// What each rule of a group will do next: every schedule entry's next firings or window openings, every exception's next days with their names.
import type { ExceptionEntry, GroupRules, PointEntry, WindowSchedule } from "../model/rules.ts";
import { dayNames, upcomingDays } from "./calendar.ts";
import { isCronEntry, isWindowEntry, nextFiring } from "./schedule.ts";
import { nextWindowEdge, openingAt } from "./windows.ts";
import { formatDay, instantOf, localDayNumber } from "./zoned.ts";

/** One coming occurrence: a firing (`at`) or an opening (`at` to `until`). ISO-8601 UTC. */
export interface Occurrence {
  at: string;
  until?: string;
}

export interface EntryOccurrences {
  /** The entry's position in `schedules`. */
  index: number;
  kind: "cron" | "at" | "window";
  /** Oldest first; empty when it never fires or opens again. A window open now starts with its current opening. */
  next: Occurrence[];
}

export interface ExceptionDay {
  /** The local date in the exception's zone, YYYY-MM-DD. */
  date: string;
  /** Where the day starts and ends (local midnights, as instants). */
  from: string;
  until: string;
  /** The iCalendar events' summaries covering it, or the exception's name. */
  names: string[];
}

export interface ExceptionOccurrences {
  index: number;
  name: string;
  /** Today (if it is one of its days) and the next ones. */
  next: ExceptionDay[];
}

export interface RuleOccurrences {
  schedules: EntryOccurrences[];
  exceptions: ExceptionOccurrences[];
}

/** A window's openings from the one containing `now` (if any), `count` of them, found within a few weeks. */
function windowOpenings(entry: WindowSchedule, now: number, count: number): Occurrence[] {
  const out: Occurrence[] = [];
  let t = now;
  const current = openingAt(entry.window, entry.timezone, t);
  if (current !== undefined) {
    out.push({ at: new Date(current.from).toISOString(), until: new Date(current.until).toISOString() });
    t = current.until;
  }
  // Each edge is either an opening or a closing; 4 * count edges reach `count` openings of any window.
  for (let guard = 0; out.length < count && guard < count * 4 + 4; guard += 1) {
    const edge = nextWindowEdge(entry.window, entry.timezone, t);
    if (edge === undefined) break;
    const opening = openingAt(entry.window, entry.timezone, edge);
    if (opening !== undefined && opening.from === edge) {
      out.push({ at: new Date(opening.from).toISOString(), until: new Date(opening.until).toISOString() });
      t = opening.until;
    } else {
      t = edge;
    }
  }
  return out;
}

function pointFirings(entry: PointEntry, now: number, count: number): Occurrence[] {
  const out: Occurrence[] = [];
  let cursor = new Date(now);
  while (out.length < count) {
    const next = nextFiring(entry, cursor);
    if (next === undefined) break;
    out.push({ at: next.toISOString() });
    cursor = next;
  }
  return out;
}

function exceptionOccurrences(entry: ExceptionEntry, index: number, now: number, count: number): ExceptionOccurrences {
  const today = localDayNumber(now, entry.timezone);
  const next = upcomingDays(entry, today, count).map((day) => ({
    date: formatDay(day),
    from: new Date(instantOf(day, 0, entry.timezone)).toISOString(),
    until: new Date(instantOf(day + 1, 0, entry.timezone)).toISOString(),
    names: dayNames(entry, day),
  }));
  return { index, name: entry.name, next };
}

/** The next `count` occurrences of every rule after `now` (a window or exception day in progress counts). Pure. */
export function ruleOccurrences(rules: GroupRules, now: Date, count = 3): RuleOccurrences {
  const t = now.getTime();
  return {
    schedules: rules.schedules.map((entry, index): EntryOccurrences => {
      if (isWindowEntry(entry)) return { index, kind: "window", next: windowOpenings(entry, t, count) };
      return { index, kind: isCronEntry(entry) ? "cron" : "at", next: pointFirings(entry, t, count) };
    }),
    exceptions: rules.exceptions.map((entry, index) => exceptionOccurrences(entry, index, t, count)),
  };
}
