// Window entries ("Mon-Fri 08:00-20:00" in a zone): parsing, whether an instant is inside, and their edges.
import { instantOf, localDayNumber, weekdayOfDay } from "./zoned.ts";

/**
 * One weekly span: it opens on weekday `day` (0 = Monday) at `start` minutes after local midnight and
 * closes `endDay` days later at `end` minutes after that day's midnight. Edges are wall-clock times
 * (see instantOf): across a DST switch a span is an hour shorter or longer.
 */
export interface WeeklySpan {
  day: number;
  start: number;
  endDay: number;
  end: number;
}

export type WindowParse = { spans: WeeklySpan[] } | { error: string };

const DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const FULL_DAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
/** Bounds the work one window costs: the spans one spec may expand to. */
export const MAX_SPANS_PER_WINDOW = 7 * 8;

function dayIndex(token: string): number | undefined {
  const t = token.toLowerCase();
  const i = DAY_NAMES.indexOf(t);
  if (i >= 0) return i;
  const j = FULL_DAY_NAMES.indexOf(t);
  return j >= 0 ? j : undefined;
}

/** "08:00" -> 480; "24:00" -> 1440 (only as an end); undefined when malformed. */
function minuteOf(token: string, allow24: boolean): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(token);
  if (m === null) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && (min !== 0 || !allow24))) return undefined;
  return h * 60 + min;
}

/** "Mon-Fri,Sun" -> [0,1,2,3,4,6]; a range may wrap the week ("Fri-Mon"). */
function parseDays(spec: string): number[] | string {
  const days = new Set<number>();
  for (const part of spec.split(",")) {
    const [from, to, extra] = part.split("-");
    if (extra !== undefined || from === undefined || from === "") return `'${part}' is not a day or a day range (e.g. Mon-Fri)`;
    const a = dayIndex(from.trim());
    const b = to === undefined ? a : dayIndex(to.trim());
    if (a === undefined || b === undefined) return `'${part}' is not a day or a day range: days are Mon Tue Wed Thu Fri Sat Sun`;
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === b) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

/**
 * "08:00-12:00,22:00-06:00" -> [start, endDay, end] per range; a range whose end is not after its start
 * wraps midnight, so "22:00-22:00" is 24 hours (as opening_hours reads it), not empty.
 */
function parseTimes(spec: string): Array<[number, number, number]> | string {
  const ranges: Array<[number, number, number]> = [];
  for (const part of spec.split(",")) {
    const [from, to, extra] = part.split("-");
    const start = from === undefined ? undefined : minuteOf(from.trim(), false);
    const end = to === undefined ? undefined : minuteOf(to.trim(), true);
    if (extra !== undefined || start === undefined || end === undefined) return `'${part}' is not a time range HH:MM-HH:MM (00:00 to 24:00)`;
    ranges.push(end > start ? [start, 0, end] : [start, 1, end]);
  }
  return ranges;
}

/**
 * Parses a window: "Mon-Fri 08:00-20:00", "Mon,Wed 08:00-12:00,13:00-20:00", "22:00-06:00" (every
 * day), "Fri 22:00-Mon 06:00" (one span across days, wrapping the week if needed).
 */
export function parseWindow(spec: string): WindowParse {
  const text = spec.trim().replace(/\s+/g, " ");
  const across = /^([A-Za-z]+) (\d{1,2}:\d{2}) ?- ?([A-Za-z]+) (\d{1,2}:\d{2})$/.exec(text);
  if (across !== null) {
    const [, d1 = "", t1 = "", d2 = "", t2 = ""] = across;
    const a = dayIndex(d1);
    const b = dayIndex(d2);
    const start = minuteOf(t1, false);
    const end = minuteOf(t2, true);
    if (a === undefined || b === undefined) return { error: `'${a === undefined ? d1 : d2}' is not a day: days are Mon Tue Wed Thu Fri Sat Sun` };
    if (start === undefined || end === undefined) return { error: `'${start === undefined ? t1 : t2}' is not a time HH:MM (00:00 to 24:00)` };
    let endDay = (b - a + 7) % 7;
    if (endDay === 0 && end <= start) endDay = 7; // "Fri 22:00-Fri 06:00" wraps the whole week
    return { spans: [{ day: a, start, endDay, end }] };
  }
  const tokens = text.split(" ");
  if (tokens.length > 2 || tokens[0] === "") {
    return { error: "expected 'DAYS HH:MM-HH:MM[,HH:MM-HH:MM]' (e.g. 'Mon-Fri 08:00-20:00'), 'HH:MM-HH:MM' (every day) or 'Fri 22:00-Mon 06:00'" };
  }
  const days = tokens.length === 2 ? parseDays(tokens[0] ?? "") : [0, 1, 2, 3, 4, 5, 6];
  if (typeof days === "string") return { error: days };
  const times = parseTimes(tokens[tokens.length - 1] ?? "");
  if (typeof times === "string") return { error: times };
  const spans = days.flatMap((day) => times.map(([start, endDay, end]) => ({ day, start, endDay, end })));
  if (spans.length > MAX_SPANS_PER_WINDOW) return { error: `at most ${MAX_SPANS_PER_WINDOW} day-and-time spans in one window` };
  return { spans };
}

const parsed = new Map<string, WeeklySpan[]>();

/** The spans of a window spec that validation already accepted (memoised; rules are parsed every tick). */
export function windowSpans(spec: string): WeeklySpan[] {
  let spans = parsed.get(spec);
  if (spans === undefined) {
    const result = parseWindow(spec);
    spans = "spans" in result ? result.spans : [];
    if (parsed.size >= 512) parsed.clear();
    parsed.set(spec, spans);
  }
  return spans;
}

/** An opening of a window as instants [from, until). */
export interface Opening {
  from: number;
  until: number;
}

const LONGEST_SPAN_DAYS = 7;

/** The openings that start on local days [firstDay, lastDay], in time order of their start. */
function openingsStarting(spans: readonly WeeklySpan[], timezone: string, firstDay: number, lastDay: number): Opening[] {
  const openings: Opening[] = [];
  for (let d = firstDay; d <= lastDay; d += 1) {
    const weekday = weekdayOfDay(d);
    for (const s of spans) {
      if (s.day !== weekday) continue;
      const from = instantOf(d, s.start, timezone);
      const until = instantOf(d + s.endDay, s.end, timezone);
      if (until > from) openings.push({ from, until });
    }
  }
  return openings.sort((a, b) => a.from - b.from);
}

/**
 * The opening of the window that contains `at`, or undefined. Spans that overlap or touch (e.g.
 * `00:00-24:00` on consecutive days) are one opening, so `until` is when the window really closes
 * (looked for up to a week ahead).
 */
export function openingAt(spec: string, timezone: string, at: number): Opening | undefined {
  const today = localDayNumber(at, timezone);
  let found: Opening | undefined;
  for (const o of openingsStarting(windowSpans(spec), timezone, today - LONGEST_SPAN_DAYS - 1, today + LONGEST_SPAN_DAYS + 1)) {
    if (found === undefined) {
      if (o.from <= at && at < o.until) found = { ...o };
    } else if (o.from <= found.until && o.until > found.until) {
      found.until = o.until;
    }
  }
  return found;
}

/** The first instant after `after` at which the window opens or closes (within the next week), or undefined. */
export function nextWindowEdge(spec: string, timezone: string, after: number): number | undefined {
  const today = localDayNumber(after, timezone);
  let next: number | undefined;
  for (const o of openingsStarting(windowSpans(spec), timezone, today - LONGEST_SPAN_DAYS - 1, today + LONGEST_SPAN_DAYS + 1)) {
    for (const edge of [o.from, o.until]) if (edge > after && (next === undefined || edge < next)) next = edge;
  }
  return next;
}

/**
 * The last instant at or before `at` at which the window closed (within the past week), or undefined. Called
 * when no window is open at `at`, so every opening that ended by then has really closed (manualChanges respect:
 * the layer below a window takes over there, which is a new decision).
 */
export function lastWindowClose(spec: string, timezone: string, at: number): number | undefined {
  const today = localDayNumber(at, timezone);
  let last: number | undefined;
  for (const o of openingsStarting(windowSpans(spec), timezone, today - LONGEST_SPAN_DAYS - 1, today)) {
    if (o.until <= at && (last === undefined || o.until > last)) last = o.until;
  }
  return last;
}
