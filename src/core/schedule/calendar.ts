// Exception calendars: whole local days (listed dates and an iCalendar's all-day events) in a zone.
import type { ExceptionEntry } from "../model/rules.ts";
import { parseIcs, type CalendarDays, type YearlyDays } from "./ics.ts";
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
    const ics = fromIcs !== undefined && "dates" in fromIcs ? fromIcs : { dates: [], yearly: [], events: 0 };
    const listed = (entry.dates ?? []).map(parseDate).filter((d): d is number => d !== undefined);
    const dates = [...new Set([...listed, ...ics.dates])].sort((a, b) => a - b);
    cal = { dates, yearly: ics.yearly, events: ics.events };
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

/** True when a yearly event starts on `start` (its own date in a year it recurs in). */
function yearlyStartsOn(rule: YearlyDays, start: number): boolean {
  const [year, month, day] = dateOfDay(start);
  if (month !== rule.month || day !== rule.day || start < rule.fromDay) return false;
  if (rule.untilDay !== undefined && start > rule.untilDay) return false;
  if (rule.count !== undefined && year - dateOfDay(rule.fromDay)[0] >= rule.count) return false;
  return !rule.except.includes(start);
}

const monthDay = (day: number): number => {
  const [, m, d] = dateOfDay(day);
  return m * 100 + d;
};

/** The month-days any yearly event can cover (in a leap and a common year): a quick "no" for most days. */
const yearlyMonthDays = new WeakMap<CalendarDays, Set<number>>();
function coveredMonthDays(cal: CalendarDays): Set<number> {
  let covered = yearlyMonthDays.get(cal);
  if (covered === undefined) {
    covered = new Set();
    for (const rule of cal.yearly) {
      for (const year of [2000, 2001]) {
        const start = dayNumber(year, rule.month, rule.day);
        for (let k = 0; k < rule.days; k += 1) covered.add(monthDay(start + k));
      }
    }
    yearlyMonthDays.set(cal, covered);
  }
  return covered;
}

/** True when local day `day` is one of the calendar's days. */
export function isCalendarDay(cal: CalendarDays, day: number): boolean {
  const i = lowerBound(cal.dates, day);
  if (cal.dates[i] === day) return true;
  if (cal.yearly.length === 0 || !coveredMonthDays(cal).has(monthDay(day))) return false;
  for (const rule of cal.yearly) {
    for (let k = 0; k < rule.days; k += 1) if (yearlyStartsOn(rule, day - k)) return true;
  }
  return false;
}

/** The first calendar day after `day` (within `years` years), or undefined. */
function nextCalendarDay(cal: CalendarDays, day: number, years = 30): number | undefined {
  let best = cal.dates[lowerBound(cal.dates, day + 1)];
  const [year] = dateOfDay(day);
  for (const rule of cal.yearly) {
    for (let y = year; y <= year + years; y += 1) {
      const start = dayNumber(y, rule.month, rule.day);
      if (start <= day || (best !== undefined && start >= best)) continue;
      if (yearlyStartsOn(rule, start)) {
        best = start;
        break;
      }
    }
  }
  return best;
}

/** True when `at` falls on one of the entry's days, in the entry's zone. */
export function exceptionActive(entry: ExceptionEntry, at: number): boolean {
  return isCalendarDay(exceptionDays(entry), localDayNumber(at, entry.timezone));
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
  if (isCalendarDay(cal, today)) {
    let d = today + 1;
    while (d - today < LONGEST_RUN_DAYS && isCalendarDay(cal, d)) d += 1;
    return instantOf(d, 0, entry.timezone);
  }
  const next = nextCalendarDay(cal, today);
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
  for (let i = 0; i < LONGEST_RUN_DAYS && isCalendarDay(cal, day - 1); i += 1) day -= 1;
  return instantOf(day, 0, entry.timezone);
}
