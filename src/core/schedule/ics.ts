// iCalendar (RFC 5545) text -> the local days its events cover, for exception calendars (ical.js reads and expands it).
import ICAL from "ical.js";
import { dateOfDay, dayNumber, instantOf, localDayNumber } from "./zoned.ts";

/**
 * What novascale reads, and the day rule (docs/schedules.md, "Exception calendars"):
 * - every VEVENT counts, all-day or timed, recurring or not (RRULE of any kind, RDATE, EXDATE, RECURRENCE-ID
 *   overrides of the same UID); STATUS:CANCELLED events and cancelled overrides cover nothing;
 * - an all-day event (a DATE DTSTART) covers its dates up to DTEND (exclusive; a DTEND at or before the
 *   start is one day; no DTEND is one day; DURATION counts whole days);
 * - a timed event covers every local day, in the exception's zone, that [start, end) touches, and its start
 *   day when it ends where it starts. Times with `Z` are UTC; a TZID Intl knows (or that ends in one, as
 *   Mozilla's `/mozilla.org/20070129_1/Europe/Berlin`) is that IANA zone; another TZID uses the text's own
 *   VTIMEZONE; anything else is floating: read in the exception's zone (X-WR-TIMEZONE is ignored);
 * - an EXDATE removes the occurrence on its date, whether it is written as a date or a date-time.
 * The expansion is lazy, one local year at a time per zone, and memoised: a tick asks about today.
 */

/** Non-recurring timed event: its days depend on the exception's zone. */
interface TimedSpan {
  summary: string;
  start: ICAL.Time;
  startTzid: string | undefined;
  end: ICAL.Time;
  endTzid: string | undefined;
}

/** A recurring event (RRULE and/or RDATE) with its overrides, expanded per year on demand. */
interface RecurringEvent {
  event: ICAL.Event;
  startTzid: string | undefined;
  endTzid: string | undefined;
  /** Occurrences removed by an EXDATE written as a date-time on an all-day event (ical.js compares them exactly). */
  exceptDays: Set<number>;
  /** RECURRENCE-ID values (as ical.js keys them) of overrides that are cancelled. */
  cancelled: Set<string>;
  /** RDATE without RRULE: ical.js yields only the RDATEs, but DTSTART is always the first instance (RFC 5545 3.8.5.2). */
  addStart: boolean;
  /** Occurrence starts expanded so far, in order (a memo shared by every zone and year asked about). */
  seen: ICAL.Time[];
  iterator?: ICAL.RecurExpansion;
  done: boolean;
}

/** Expands `r` until an occurrence starts after `day` (or the rule ends), at most `budget` more steps. */
function expandThrough(r: RecurringEvent, day: number, budget: number): void {
  if (r.iterator === undefined) {
    r.iterator = r.event.iterator();
    if (r.addStart) r.seen.push(r.event.startDate);
  }
  for (let steps = 0; !r.done && steps < budget; steps += 1) {
    const lastSeen = r.seen[r.seen.length - 1];
    if (lastSeen !== undefined && dayNumber(lastSeen.year, lastSeen.month, lastSeen.day) > day) return;
    const next = r.iterator.next();
    if (next === undefined || next === null) r.done = true;
    else r.seen.push(next);
  }
}

export interface CalendarDays {
  /** Days of non-recurring all-day events (the same in every zone), as day numbers, sorted and unique. */
  dates: number[];
  timed: TimedSpan[];
  recurring: RecurringEvent[];
  events: number;
  /** The SUMMARY of the all-day event that covers each of `dates` (first one wins), for showing holiday names. */
  summaries?: Map<number, string>;
}

export type IcsParse = CalendarDays | { error: string };

/** Bounds on pasted text. The largest of Mozilla's 190 holiday calendars for Thunderbird is 374,000 bytes. */
export const ICS_MAX_BYTES = 512 * 1024;
export const ICS_MAX_EVENTS = 20_000;
/** One occurrence covers at most this many days (a longer one is refused: it would make every lookup scan it). */
export const ICS_MAX_DAYS_PER_EVENT = 366;
/** Bounds the days one year of a calendar may cover in a zone (every day of a year is 366). */
const YEAR_SCAN_LIMIT = 20_000;

type Span = { first: number; last: number };

/** The IANA zone a TZID names, or undefined: the TZID itself, or its longest tail Intl knows. */
const ianaCache = new Map<string, string | undefined>();
function ianaZone(tzid: string): string | undefined {
  if (ianaCache.has(tzid)) return ianaCache.get(tzid);
  let found: string | undefined;
  const parts = tzid.split("/");
  for (let i = 0; i < parts.length && found === undefined; i += 1) {
    const candidate = parts.slice(i).join("/");
    if (!/^[A-Za-z]/.test(candidate)) continue;
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: candidate });
      found = candidate;
    } catch {
      // not a zone Intl knows: try a shorter tail
    }
  }
  if (ianaCache.size > 500) ianaCache.clear();
  ianaCache.set(tzid, found);
  return found;
}

/** The instant of a date-time, with floating times read in `zone`. */
function instant(t: ICAL.Time, tzid: string | undefined, zone: string): number {
  const seconds = t.second * 1000;
  if (t.zone === ICAL.Timezone.utcTimezone) return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute) + seconds;
  const iana = tzid === undefined ? undefined : ianaZone(tzid);
  if (iana !== undefined) return instantOf(dayNumber(t.year, t.month, t.day), t.hour * 60 + t.minute, iana) + seconds;
  if (tzid !== undefined && t.zone !== null && t.zone !== ICAL.Timezone.localTimezone && t.zone.component !== null) return t.toUnixTime() * 1000;
  return instantOf(dayNumber(t.year, t.month, t.day), t.hour * 60 + t.minute, zone) + seconds;
}

/** The local days [first, last] an occurrence covers in `zone`. */
function spanOf(start: ICAL.Time, startTzid: string | undefined, end: ICAL.Time, endTzid: string | undefined, zone: string): Span {
  if (start.isDate) {
    const first = dayNumber(start.year, start.month, start.day);
    const endDay = dayNumber(end.year, end.month, end.day);
    return { first, last: Math.max(first, endDay - 1) };
  }
  const s = instant(start, startTzid, zone);
  const e = end.isDate ? instantOf(dayNumber(end.year, end.month, end.day), 0, zone) : instant(end, endTzid, zone);
  const first = localDayNumber(s, zone);
  return { first, last: e > s ? Math.max(first, localDayNumber(e - 1, zone)) : first };
}

/** The TZID parameter of an event's first `name` property. */
function tzidOf(component: ICAL.Component, name: string): string | undefined {
  const value = component.getFirstProperty(name)?.getParameter("tzid");
  return typeof value === "string" && value !== "" ? value : undefined;
}

function isCancelled(component: ICAL.Component): boolean {
  return String(component.getFirstPropertyValue("status") ?? "").toUpperCase() === "CANCELLED";
}

function summaryOf(component: ICAL.Component): string {
  const s = component.getFirstPropertyValue("summary");
  return typeof s === "string" ? s.replace(/\s+/g, " ") : "";
}

/**
 * The days an iCalendar text's events cover. Refused, with the event named: text that is not iCalendar,
 * an event without a valid DTSTART, an occurrence longer than ICS_MAX_DAYS_PER_EVENT days, a recurrence
 * ical.js cannot read, and more than ICS_MAX_EVENTS events.
 */
export function parseIcs(text: string): IcsParse {
  // Rules are parsed (and so validated) on every tick: a pasted calendar is read once per isolate.
  const known = parsedTexts.get(text);
  if (known !== undefined) return known;
  const result = readIcs(text);
  if (parsedTexts.size >= 16) parsedTexts.clear();
  parsedTexts.set(text, result);
  return result;
}

const parsedTexts = new Map<string, IcsParse>();

/**
 * The text with every RRULE ical.js cannot read (e.g. Estonia's `BYMONTH=16`) taken out: such an event
 * counts its DTSTART occurrence only (RFC 5545: DTSTART is always the first instance), rather than one
 * broken line refusing a whole country's calendar.
 */
function withoutUnreadableRules(text: string): string {
  if (!/\nRRULE/i.test(text)) return text;
  const lines = text.replace(/\r\n?/g, "\n").replace(/\n[ \t]/g, "").split("\n");
  let changed = false;
  const kept = lines.filter((line) => {
    if (!/^RRULE[;:]/i.test(line)) return true;
    try {
      ICAL.Recur.fromString(line.slice(line.indexOf(":") + 1));
      return true;
    } catch {
      changed = true;
      return false;
    }
  });
  return changed ? kept.join("\r\n") : text;
}

/** The VCALENDAR components of a text (some files put several one after the other). */
function calendarsOf(text: string): ICAL.Component[] | string {
  const body = text.replace(/^\uFEFF/, "");
  if (!/^\s*BEGIN:VCALENDAR/i.test(body)) return "not iCalendar text (no BEGIN:VCALENDAR)";
  let parsed: unknown;
  try {
    parsed = ICAL.parse(withoutUnreadableRules(body));
  } catch (error) {
    return `not readable iCalendar text (${error instanceof Error ? error.message.slice(0, 120) : "parse error"})`;
  }
  // One component parses to [name, props, comps]; several to a list of those.
  const list = (Array.isArray(parsed) && typeof parsed[0] === "string" ? [parsed] : (parsed as unknown[])) as unknown[];
  const out: ICAL.Component[] = [];
  for (const jcal of list) {
    const component = new ICAL.Component(jcal as unknown[]);
    if (component.name === "vcalendar") out.push(component);
  }
  return out.length === 0 ? "not iCalendar text (no BEGIN:VCALENDAR)" : out;
}

function readIcs(text: string): IcsParse {
  const calendars = calendarsOf(text);
  if (typeof calendars === "string") return { error: calendars };
  const dates = new Set<number>();
  const summaries = new Map<number, string>();
  const timed: TimedSpan[] = [];
  const recurring: RecurringEvent[] = [];
  let events = 0;
  for (const vcalendar of calendars) {
    const vevents = vcalendar.getAllSubcomponents("vevent");
    events += vevents.length;
    if (events > ICS_MAX_EVENTS) return { error: `more than ${ICS_MAX_EVENTS} events` };
    // Overrides (RECURRENCE-ID) belong to the recurring event of the same UID only.
    const overrides = new Map<string, ICAL.Component[]>();
    for (const v of vevents) {
      if (!v.hasProperty("recurrence-id")) continue;
      const uid = String(v.getFirstPropertyValue("uid") ?? "");
      overrides.set(uid, [...(overrides.get(uid) ?? []), v]);
    }
    const masters = new Set<string>();
    for (const v of vevents) if (!v.hasProperty("recurrence-id") && (v.hasProperty("rrule") || v.hasProperty("rdate"))) masters.add(String(v.getFirstPropertyValue("uid") ?? ""));
    let index = 0;
    for (const v of vevents) {
      index += 1;
      const name = `event ${index}${summaryOf(v) === "" ? "" : ` '${summaryOf(v).slice(0, 60)}'`}`;
      const uid = String(v.getFirstPropertyValue("uid") ?? "");
      const isOverride = v.hasProperty("recurrence-id");
      // An override of a recurring event is read with it; one whose event is missing stands on its own.
      if (isOverride && masters.has(uid)) continue;
      if (isCancelled(v)) continue;
      let start: ICAL.Time;
      let end: ICAL.Time;
      try {
        const dt = v.getFirstPropertyValue("dtstart");
        if (!(dt instanceof ICAL.Time) || !wellFormed(v.getFirstProperty("dtstart"))) return { error: `${name} has no valid DTSTART` };
        // A malformed DTEND (Estonia's `20140930` written `2014930`) is read as absent: the event's first day only.
        if (v.hasProperty("dtend") && !wellFormed(v.getFirstProperty("dtend"))) v.removeProperty("dtend");
        const event = new ICAL.Event(v, { exceptions: [] });
        start = event.startDate;
        end = event.endDate;
        const length = spanOf(start, tzidOf(v, "dtstart"), end, tzidOf(v, "dtend") ?? tzidOf(v, "dtstart"), "UTC");
        if (length.last - length.first + 1 > ICS_MAX_DAYS_PER_EVENT) return { error: `${name} lasts more than ${ICS_MAX_DAYS_PER_EVENT} days` };
        if (!isOverride && event.isRecurring()) {
          const own = overrides.get(uid) ?? [];
          const live = own.filter((o) => !isCancelled(o));
          const full = new ICAL.Event(v, { exceptions: live });
          const cancelled = new Set(own.filter(isCancelled).map((o) => String(o.getFirstPropertyValue("recurrence-id"))));
          const exceptDays = new Set<number>();
          const exdates = new Set<string>();
          for (const p of v.getAllProperties("exdate")) {
            for (const x of p.getValues()) {
              if (!(x instanceof ICAL.Time)) continue;
              exdates.add(x.toString());
              if (start.isDate) exceptDays.add(dayNumber(x.year, x.month, x.day));
            }
          }
          const addStart = !v.hasProperty("rrule") && !exdates.has(start.toString()) && !(start.isDate && exceptDays.has(dayNumber(start.year, start.month, start.day)));
          const freq = String((v.getFirstPropertyValue("rrule") as { freq?: unknown } | null)?.freq ?? "").toUpperCase();
          if (freq === "SECONDLY" || freq === "MINUTELY" || freq === "HOURLY") {
            return { error: `${name} recurs ${freq}: exception calendars count whole days, so use FREQ=DAILY (or an all-day event)` };
          }
          // Read the rule now, so that a rule ical.js cannot read is refused at validation, not at a tick.
          const it = full.iterator();
          it.next();
          recurring.push({ event: full, startTzid: tzidOf(v, "dtstart"), endTzid: tzidOf(v, "dtend") ?? tzidOf(v, "dtstart"), exceptDays, cancelled, addStart, seen: [], done: false });
          continue;
        }
      } catch (error) {
        return { error: `${name} cannot be read (${error instanceof Error ? error.message.slice(0, 120) : "error"})` };
      }
      if (start.isDate) {
        const span = spanOf(start, undefined, end, undefined, "UTC");
        for (let d = span.first; d <= span.last; d += 1) {
          dates.add(d);
          if (summaryOf(v) !== "" && !summaries.has(d)) summaries.set(d, summaryOf(v));
        }
      } else timed.push({ summary: summaryOf(v), start, startTzid: tzidOf(v, "dtstart"), end, endTzid: tzidOf(v, "dtend") ?? tzidOf(v, "dtstart") });
    }
  }
  return { dates: [...dates].sort((a, b) => a - b), timed, recurring, events, summaries };
}

/** True when a DTSTART/DTEND was written as a real date or date-time (ical.js quietly rolls `2014-93-0` over into 2021). */
function wellFormed(prop: ICAL.Property | null): boolean {
  const raw = prop?.toJSON()[3];
  if (typeof raw !== "string") return false;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})Z?)?$/.exec(raw);
  if (m === null) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [cy, cm, cd] = dateOfDay(dayNumber(y, mo, d));
  return cy === y && cm === mo && cd === d && Number(m[4] ?? 0) < 24 && Number(m[5] ?? 0) < 60 && Number(m[6] ?? 0) < 61;
}

/** Per calendar, per "zone year": the days of its timed and recurring events in that local year. */
const yearDays = new WeakMap<CalendarDays, Map<string, Set<number>>>();

/**
 * The local days, in `zone`, of the calendar's timed and recurring events that fall in `year` (the
 * non-recurring all-day `dates` are not included). Occurrences that start in the year before are looked
 * at too, so a long or late event reaches into this year.
 */
export function eventDaysInYear(cal: CalendarDays, zone: string, year: number): ReadonlySet<number> {
  let byKey = yearDays.get(cal);
  if (byKey === undefined) yearDays.set(cal, (byKey = new Map()));
  const key = `${zone} ${year}`;
  const known = byKey.get(key);
  if (known !== undefined) return known;
  const from = dayNumber(year, 1, 1);
  const to = dayNumber(year, 12, 31);
  const days = new Set<number>();
  const add = (span: Span) => {
    for (let d = Math.max(span.first, from); d <= Math.min(span.last, to); d += 1) days.add(d);
  };
  for (const t of cal.timed) add(spanOf(t.start, t.startTzid, t.end, t.endTzid, zone));
  const scanFrom = dayNumber(year - 1, 1, 1);
  for (const r of cal.recurring) {
    expandThrough(r, to + 1, YEAR_SCAN_LIMIT * 10);
    for (const next of r.seen) {
      const day = dayNumber(next.year, next.month, next.day);
      if (day > to + 1) break;
      if (day < scanFrom - 1) continue;
      if (r.exceptDays.has(day)) continue;
      const details = r.event.getOccurrenceDetails(next);
      if (r.cancelled.has(details.recurrenceId.toString())) continue;
      const own = details.item === r.event;
      const startTzid = own ? r.startTzid : tzidOf(details.item.component, "dtstart");
      const endTzid = own ? r.endTzid : (tzidOf(details.item.component, "dtend") ?? startTzid);
      add(spanOf(details.startDate, startTzid, details.endDate, endTzid, zone));
    }
  }
  if (byKey.size >= 64) byKey.clear();
  byKey.set(key, days);
  return days;
}

/**
 * The SUMMARY lines of the calendar's events that cover local day `day` in `zone` (all-day, timed and
 * recurring ones, overrides by their own summary), for showing holiday names; empty when none names it.
 */
export function eventNamesOn(cal: CalendarDays, zone: string, day: number): string[] {
  const names = new Set<string>();
  const single = cal.summaries?.get(day);
  if (single !== undefined) names.add(single);
  for (const t of cal.timed) {
    const span = spanOf(t.start, t.startTzid, t.end, t.endTzid, zone);
    if (t.summary !== "" && span.first <= day && day <= span.last) names.add(t.summary);
  }
  for (const r of cal.recurring) {
    expandThrough(r, day + 1, YEAR_SCAN_LIMIT * 10);
    for (const next of r.seen) {
      const start = dayNumber(next.year, next.month, next.day);
      if (start > day + 1) break;
      if (start < day - ICS_MAX_DAYS_PER_EVENT - 1 || r.exceptDays.has(start)) continue;
      const details = r.event.getOccurrenceDetails(next);
      if (r.cancelled.has(details.recurrenceId.toString())) continue;
      const own = details.item === r.event;
      const startTzid = own ? r.startTzid : tzidOf(details.item.component, "dtstart");
      const endTzid = own ? r.endTzid : (tzidOf(details.item.component, "dtend") ?? startTzid);
      const span = spanOf(details.startDate, startTzid, details.endDate, endTzid, zone);
      const summary = summaryOf(details.item.component);
      if (summary !== "" && span.first <= day && day <= span.last) names.add(summary);
    }
  }
  return [...names];
}
