// iCalendar (RFC 5545) text -> the local days its all-day events cover, for exception calendars.
import { dateOfDay, dayNumber } from "./zoned.ts";

/** A yearly all-day event (RRULE:FREQ=YEARLY): `days` days from its month/day, from `fromDay` on, until `untilDay` (inclusive) if set. */
export interface YearlyDays {
  month: number;
  day: number;
  days: number;
  fromDay: number;
  untilDay?: number;
  count?: number;
  except: number[];
  summary: string;
}

export interface CalendarDays {
  /** Single (non-recurring) days, as day numbers, sorted and unique. */
  dates: number[];
  yearly: YearlyDays[];
  events: number;
  /** The SUMMARY of the event that names each single day (day number -> text), for showing holiday names. */
  summaries?: Map<number, string>;
}

export type IcsParse = CalendarDays | { error: string };

/** Bounds on pasted text: a country's public holidays for decades fit in far less. */
export const ICS_MAX_EVENTS = 2_000;
export const ICS_MAX_DAYS_PER_EVENT = 366;
/** Bounds the days a calendar names (single days plus each yearly event's length): a decade of any country's holidays is a few hundred. */
export const ICS_MAX_DAYS = 5_000;

interface Property {
  name: string;
  params: Record<string, string>;
  value: string;
}

/** Unfolds lines (RFC 5545 3.1: CRLF followed by a space or tab continues the line) and splits name;params:value. */
function properties(text: string): Property[] {
  const unfolded = text.replace(/\r\n/g, "\n").replace(/\r/g, "\n").replace(/\n[ \t]/g, "");
  const props: Property[] = [];
  for (const line of unfolded.split("\n")) {
    if (line.trim() === "") continue;
    // The value starts at the first ':' outside a quoted parameter value.
    let quoted = false;
    let colon = -1;
    for (let i = 0; i < line.length; i += 1) {
      const ch = line[i];
      if (ch === '"') quoted = !quoted;
      else if (ch === ":" && !quoted) {
        colon = i;
        break;
      }
    }
    if (colon < 0) continue; // not a property line; calendars in the wild carry stray text
    const [name = "", ...rawParams] = line.slice(0, colon).split(";");
    const params: Record<string, string> = {};
    for (const p of rawParams) {
      const eq = p.indexOf("=");
      if (eq > 0) params[p.slice(0, eq).toUpperCase()] = p.slice(eq + 1).replace(/^"|"$/g, "");
    }
    props.push({ name: name.trim().toUpperCase(), params, value: line.slice(colon + 1).trim() });
  }
  return props;
}

/** "20261224" -> its day number; undefined for a date-time or a malformed value. */
function dateValue(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (m === null) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const n = dayNumber(y, mo, d);
  const [cy, cm, cd] = dateOfDay(n);
  return cy === y && cm === mo && cd === d ? n : undefined;
}

/** "P1D", "P2W" -> days; undefined otherwise (an all-day event lasts whole days). */
function durationDays(value: string): number | undefined {
  const m = /^\+?P(?:(\d+)W)?(?:(\d+)D)?$/.exec(value);
  if (m === null || (m[1] === undefined && m[2] === undefined)) return undefined;
  return Number(m[1] ?? 0) * 7 + Number(m[2] ?? 0);
}

interface EventDraft {
  summary: string;
  start?: number;
  endExclusive?: number;
  duration?: number;
  rrule?: string;
  exdates: number[];
  cancelled: boolean;
  problem?: string;
}

function applyProperty(ev: EventDraft, p: Property): void {
  const isDate = p.params.VALUE === "DATE" || /^\d{8}$/.test(p.value);
  switch (p.name) {
    case "SUMMARY":
      ev.summary = p.value.replace(/\\([,;\\])/g, "$1").replace(/\\[nN]/g, " ");
      return;
    case "DTSTART":
      if (!isDate) ev.problem = "is not an all-day event (its DTSTART has a time; use DTSTART;VALUE=DATE:YYYYMMDD)";
      else ev.start = dateValue(p.value);
      return;
    case "DTEND":
      if (!isDate) ev.problem = "is not an all-day event (its DTEND has a time)";
      else ev.endExclusive = dateValue(p.value);
      return;
    case "DURATION":
      ev.duration = durationDays(p.value);
      if (ev.duration === undefined) ev.problem = `has a DURATION (${p.value}) that is not whole days`;
      return;
    case "RRULE":
      ev.rrule = p.value.toUpperCase();
      return;
    case "EXDATE":
      for (const v of p.value.split(",")) {
        const d = dateValue(v.trim());
        if (d === undefined) ev.problem = `has an EXDATE (${v}) that is not a date`;
        else ev.exdates.push(d);
      }
      return;
    case "RDATE":
    case "RECURRENCE-ID":
      ev.problem = `uses ${p.name}, which novascale does not read (write the dates as events of their own)`;
      return;
    case "STATUS":
      ev.cancelled = p.value.toUpperCase() === "CANCELLED";
      return;
    default:
      return;
  }
}

/** RRULE:FREQ=YEARLY[;INTERVAL=1][;COUNT=n|UNTIL=date][;BYMONTH=m;BYMONTHDAY=d matching DTSTART]; anything else is refused. */
function yearlyRule(rrule: string, start: number): { untilDay?: number; count?: number } | string {
  const parts = Object.fromEntries(rrule.split(";").map((kv) => kv.split("=") as [string, string]));
  const [, month, day] = dateOfDay(start);
  const out: { untilDay?: number; count?: number } = {};
  for (const [key, value] of Object.entries(parts)) {
    if (key === "FREQ" && value === "YEARLY") continue;
    if (key === "INTERVAL" && value === "1") continue;
    if (key === "WKST") continue;
    if (key === "BYMONTH" && Number(value) === month) continue;
    if (key === "BYMONTHDAY" && Number(value) === day) continue;
    if (key === "COUNT" && /^\d+$/.test(value)) {
      out.count = Number(value);
      continue;
    }
    if (key === "UNTIL") {
      const until = dateValue(value.slice(0, 8));
      if (until !== undefined) {
        out.untilDay = until;
        continue;
      }
    }
    return `has RRULE ${rrule}: only FREQ=YEARLY on the event's own date is supported (with COUNT or UNTIL)`;
  }
  if (parts.FREQ !== "YEARLY") return `has RRULE ${rrule}: only FREQ=YEARLY on the event's own date is supported (with COUNT or UNTIL)`;
  return out;
}

/**
 * The days an iCalendar text's all-day events cover. VEVENTs only; DTEND is exclusive (RFC 5545), a
 * missing DTEND means one day; cancelled events are skipped; yearly recurrences are kept as rules.
 * Timed events, RDATE, RECURRENCE-ID and other RRULEs are refused with the event named, so a pasted
 * calendar never silently means something else.
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

function readIcs(text: string): IcsParse {
  const dates = new Set<number>();
  const summaries = new Map<number, string>();
  const yearly: YearlyDays[] = [];
  let events = 0;
  let ev: EventDraft | undefined;
  let nested = 0; // components inside an event (VALARM): their properties are not the event's
  let sawCalendar = false;
  for (const p of properties(text.replace(/^\uFEFF/, ""))) {
    const component = p.value.toUpperCase();
    if (p.name === "BEGIN" && component === "VCALENDAR") sawCalendar = true;
    if (p.name === "BEGIN" && component === "VEVENT" && ev === undefined) {
      ev = { summary: "", exdates: [], cancelled: false };
      continue;
    }
    if (ev === undefined) continue;
    if (p.name === "BEGIN") nested += 1;
    if (nested > 0) {
      if (p.name === "END") nested -= 1;
      continue;
    }
    if (p.name !== "END" || component !== "VEVENT") {
      applyProperty(ev, p);
      continue;
    }
    events += 1;
    if (events > ICS_MAX_EVENTS) return { error: `more than ${ICS_MAX_EVENTS} events` };
    const name = `event ${events}${ev.summary === "" ? "" : ` '${ev.summary.slice(0, 60)}'`}`;
    if (ev.problem !== undefined) return { error: `${name} ${ev.problem}` };
    const current = ev;
    ev = undefined;
    if (current.cancelled) continue;
    if (current.start === undefined) return { error: `${name} has no valid DTSTART date` };
    const length = current.endExclusive !== undefined ? current.endExclusive - current.start : (current.duration ?? 1);
    if (length < 1 || length > ICS_MAX_DAYS_PER_EVENT) return { error: `${name} lasts ${length} days (1 to ${ICS_MAX_DAYS_PER_EVENT})` };
    if (current.rrule !== undefined) {
      const rule = yearlyRule(current.rrule, current.start);
      if (typeof rule === "string") return { error: `${name} ${rule}` };
      const [, month, day] = dateOfDay(current.start);
      yearly.push({ month, day, days: length, fromDay: current.start, ...rule, except: current.exdates, summary: current.summary });
      continue;
    }
    for (let d = current.start; d < current.start + length; d += 1) {
      dates.add(d);
      if (current.summary !== "" && !summaries.has(d)) summaries.set(d, current.summary);
    }
  }
  if (!sawCalendar) return { error: "not iCalendar text (no BEGIN:VCALENDAR)" };
  const named = dates.size + yearly.reduce((n, y) => n + y.days, 0);
  if (named > ICS_MAX_DAYS) return { error: `the events cover ${named} days (at most ${ICS_MAX_DAYS})` };
  if (ev !== undefined) return { error: `event ${events + 1} has no END:VEVENT` };
  return { dates: [...dates].sort((a, b) => a - b), yearly, events, summaries };
}
