// Wall-clock time in an IANA zone: an instant's local fields, and the instant of a local time (DST-aware).

/** Local calendar fields of an instant in a zone. `weekday` is 0 = Monday ... 6 = Sunday. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timezone, f);
  }
  return f;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** The local fields of `instant` in `timezone` (whole seconds). */
export function localTime(instant: Date | number, timezone: string): LocalTime {
  const ms = typeof instant === "number" ? instant : instant.getTime();
  const fields: Record<string, number> = {};
  for (const part of formatter(timezone).formatToParts(ms)) {
    if (part.type !== "literal") fields[part.type] = Number(part.value);
  }
  const year = fields.year ?? 1970;
  const month = fields.month ?? 1;
  const day = fields.day ?? 1;
  return {
    year,
    month,
    day,
    hour: (fields.hour ?? 0) % 24,
    minute: fields.minute ?? 0,
    second: fields.second ?? 0,
    weekday: (new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7,
  };
}

/** The zone's offset from UTC at `instant`, in minutes (positive east of Greenwich). */
export function offsetMinutes(instant: number, timezone: string): number {
  const t = localTime(instant, timezone);
  const localAsUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return Math.round((localAsUtc - Math.floor(instant / 1000) * 1000) / MINUTE);
}

/** A local calendar day as a count of days since 1970-01-01 (so days can be added and compared). */
export function dayNumber(year: number, month: number, day: number): number {
  return Math.floor(Date.UTC(year, month - 1, day) / DAY);
}

/** The calendar date of a day number: [year, month, day]. */
export function dateOfDay(dayNum: number): [number, number, number] {
  const d = new Date(dayNum * DAY);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

/** 0 = Monday ... 6 = Sunday, for a day number. */
export function weekdayOfDay(dayNum: number): number {
  return (((dayNum + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

/** The local day number of an instant in a zone. */
export function localDayNumber(instant: number, timezone: string): number {
  const t = localTime(instant, timezone);
  return dayNumber(t.year, t.month, t.day);
}

/**
 * The instant at which the wall clock in `timezone` reads `minuteOfDay` (0..1440, 1440 = the next
 * day's 00:00) on local day `dayNum`. Wall-clock rule, the same as a fixed-time cron entry:
 * - a local time that happens twice (fall back) is its first occurrence;
 * - a local time that does not exist (spring forward) is the first instant after the gap (the
 *   switch itself), i.e. the first instant whose local time is at or after the one asked for.
 */
export function instantOf(dayNum: number, minuteOfDay: number, timezone: string): number {
  // Window edges and midnights recur across a timeline's steps: remember them (a pure function of its inputs).
  const key = `${timezone}\u0000${dayNum}\u0000${minuteOfDay}`;
  const known = instants.get(key);
  if (known !== undefined) return known;
  const found = computeInstant(dayNum, minuteOfDay, timezone);
  if (instants.size >= 8192) instants.clear();
  instants.set(key, found);
  return found;
}

const instants = new Map<string, number>();

function computeInstant(dayNum: number, minuteOfDay: number, timezone: string): number {
  const localMs = dayNum * DAY + minuteOfDay * MINUTE;
  // The offsets a day either side bracket any switch near this local time (zones switch at most once a day).
  const before = offsetMinutes(localMs - DAY, timezone);
  const after = offsetMinutes(localMs + DAY, timezone);
  const candidates = [localMs - before * MINUTE, localMs - after * MINUTE].sort((a, b) => a - b);
  for (const c of candidates) {
    if (localAt(c, timezone) === localMs) return c;
  }
  // In a gap: find the switch between the two candidates (the earliest instant whose local time is past the gap).
  let lo = candidates[0] ?? localMs;
  let hi = candidates[1] ?? localMs;
  if (localAt(lo, timezone) >= localMs) return lo;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (localAt(mid, timezone) >= localMs) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The local wall-clock time of an instant, as milliseconds of a fictitious UTC (for comparisons). */
function localAt(instant: number, timezone: string): number {
  return Math.floor(instant / 1000) * 1000 + offsetMinutes(instant, timezone) * MINUTE;
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, "0");

/** "2026-12-24" for a day number. */
export function formatDay(dayNum: number): string {
  const [y, m, d] = dateOfDay(dayNum);
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
}

/** `instant` as local time with its UTC offset in `timezone`, e.g. "2026-11-26T08:00+01:00" (seconds only when not zero). */
export function formatInZone(instant: Date, timezone: string): string {
  const t = localTime(instant, timezone);
  const offset = offsetMinutes(instant.getTime(), timezone);
  const sign = offset < 0 ? "-" : "+";
  const zone = `${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
  const time = t.second === 0 ? `${pad(t.hour)}:${pad(t.minute)}` : `${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}T${time}${zone}`;
}
