// Exception calendars: whole local days (listed dates and the days an iCalendar's events cover) in a zone.
import type { ExceptionEntry } from "../model/rules.ts";
import { eventDaysInYear, eventNamesOn, parseIcs, type CalendarDays } from "./ics.ts";
import { dateOfDay, dayNumber, formatDay, instantOf, localDayNumber } from "./zoned.ts";

/** "2026-12-24" -> day number, or undefined when it is not a real calendar date. */
export function parseDate(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m === null) return undefined;
  const n = dayNumber(Number(m[1]), Number(m[2]), Number(m[3]));
  return formatDay(n) === text ? n : undefined;
}

const calendars = new Map<string, CalendarDays>();
/**
 * By entry object first: the tick reuses a parsed rules index while it is unchanged, so the same entry
 * comes back every minute and needs no key built from its dates and up to 64 KiB of iCalendar text.
 */
const byEntry = new WeakMap<ExceptionEntry, CalendarDays>();

/** The days of an exception entry that validation accepted: its dates plus its iCalendar's (memoised). */
export function exceptionDays(entry: ExceptionEntry): CalendarDays {
  const known = byEntry.get(entry);
  if (known !== undefined) return known;
  const key = `${(entry.dates ?? []).join(",")}\u0000${entry.ics ?? ""}`;
  let cal = calendars.get(key);
  if (cal === undefined) {
    const fromIcs = entry.ics === undefined ? undefined : parseIcs(entry.ics);
    const ics: CalendarDays = fromIcs !== undefined && "dates" in fromIcs ? fromIcs : { dates: [], timed: [], recurring: [], events: 0 };
    const listed = (entry.dates ?? []).map(parseDate).filter((d): d is number => d !== undefined);
    const dates = [...new Set([...listed, ...ics.dates])].sort((a, b) => a - b);
    cal = { dates, timed: ics.timed, recurring: ics.recurring, events: ics.events, ...(ics.summaries === undefined ? {} : { summaries: ics.summaries }) };
    if (calendars.size >= 64) calendars.clear();
    calendars.set(key, cal);
  }
  byEntry.set(entry, cal);
  return cal;
}

/** The first index in sorted `xs` whose value is >= x. */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** True when local day `day` (in `zone`) is one of the calendar's days. */
export function isCalendarDay(cal: CalendarDays, day: number, zone: string): boolean {
  const i = lowerBound(cal.dates, day);
  if (cal.dates[i] === day) return true;
  if (cal.timed.length === 0 && cal.recurring.length === 0) return false;
  return eventDaysInYear(cal, zone, dateOfDay(day)[0]).has(day);
}

/** The first calendar day after `day` (within `years` years), or undefined. */
function nextCalendarDay(cal: CalendarDays, day: number, zone: string, years = 30): number | undefined {
  let best = cal.dates[lowerBound(cal.dates, day + 1)];
  if (cal.timed.length === 0 && cal.recurring.length === 0) return best;
  const [year] = dateOfDay(day);
  for (let y = year; y <= year + years; y += 1) {
    if (best !== undefined && dayNumber(y, 1, 1) > best) break;
    let first: number | undefined;
    for (const d of eventDaysInYear(cal, zone, y)) if (d > day && (first === undefined || d < first)) first = d;
    if (first !== undefined) {
      if (best === undefined || first < best) best = first;
      break;
    }
  }
  return best;
}

/** True when `at` falls on one of the entry's days, in the entry's zone. */
export function exceptionActive(entry: ExceptionEntry, at: number): boolean {
  return isCalendarDay(exceptionDays(entry), localDayNumber(at, entry.timezone), entry.timezone);
}

/** Longest run of consecutive exception days followed to find where one ends. */
const LONGEST_RUN_DAYS = 400;

/**
 * The first instant after `after` at which the entry starts or stops applying: the local midnight
 * that begins its next day, or the one that ends its current run of days.
 */
export function nextExceptionEdge(entry: ExceptionEntry, after: number): number | undefined {
  const cal = exceptionDays(entry);
  const today = localDayNumber(after, entry.timezone);
  if (isCalendarDay(cal, today, entry.timezone)) {
    let d = today + 1;
    while (d - today < LONGEST_RUN_DAYS && isCalendarDay(cal, d, entry.timezone)) d += 1;
    return instantOf(d, 0, entry.timezone);
  }
  const next = nextCalendarDay(cal, today, entry.timezone);
  return next === undefined ? undefined : instantOf(next, 0, entry.timezone);
}

/** "2026-12-24 Europe/Berlin": the local day an instant falls on, for reasons. */
export function describeDay(at: number, timezone: string): string {
  return `${formatDay(localDayNumber(at, timezone))} ${timezone}`;
}

/**
 * The instant the run of exception days containing `at` began (the local midnight of its first day): when
 * the exception took effect, so a server started by hand during it is parked again at the next decision
 * (manualChanges respect). Bounded like nextExceptionEdge.
 */
export function exceptionRunStart(entry: ExceptionEntry, at: number): number {
  const cal = exceptionDays(entry);
  let day = localDayNumber(at, entry.timezone);
  for (let i = 0; i < LONGEST_RUN_DAYS && isCalendarDay(cal, day - 1, entry.timezone); i += 1) day -= 1;
  return instantOf(day, 0, entry.timezone);
}

/** The last calendar day before `day` (looked for over `years` years back), or undefined. */
function previousCalendarDay(cal: CalendarDays, day: number, zone: string, years = 2): number | undefined {
  let best = cal.dates[lowerBound(cal.dates, day) - 1];
  if (cal.timed.length === 0 && cal.recurring.length === 0) return best;
  const [year] = dateOfDay(day);
  for (let y = year; y >= year - years; y -= 1) {
    if (best !== undefined && dayNumber(y + 1, 1, 1) <= best) break;
    for (const d of eventDaysInYear(cal, zone, y)) if (d < day && (best === undefined || d > best)) best = d;
  }
  return best;
}

/**
 * The local midnight that ended the entry's last run of days before `at` (undefined while it applies, or when
 * it never applied in the last two years): where the layers below it took over (manualChanges respect).
 */
export function exceptionLastEnd(entry: ExceptionEntry, at: number): number | undefined {
  const cal = exceptionDays(entry);
  const today = localDayNumber(at, entry.timezone);
  if (isCalendarDay(cal, today, entry.timezone)) return undefined;
  const last = previousCalendarDay(cal, today, entry.timezone);
  return last === undefined ? undefined : instantOf(last + 1, 0, entry.timezone);
}

/**
 * What local day `day` is called in the entry: the iCalendar events' SUMMARY lines that cover it, and the
 * entry's own name for a day it lists (or an event without a summary). Empty when it is not one of its days.
 */
export function dayNames(entry: ExceptionEntry, day: number): string[] {
  const cal = exceptionDays(entry);
  if (!isCalendarDay(cal, day, entry.timezone)) return [];
  const names = new Set<string>(eventNamesOn(cal, entry.timezone, day));
  if (names.size === 0 || (entry.dates ?? []).some((d) => parseDate(d) === day)) names.add(entry.name);
  return [...names];
}

/** The entry's next `count` local days from `day` on (today included), looked for up to `horizonDays` ahead. */
export function upcomingDays(entry: ExceptionEntry, day: number, count: number, horizonDays = 400): number[] {
  const cal = exceptionDays(entry);
  const out: number[] = [];
  for (let d = day; d < day + horizonDays && out.length < count; d += 1) if (isCalendarDay(cal, d, entry.timezone)) out.push(d);
  return out;
}
