// The week view's numbers: the desired count per local day and hour in a zone, from change points (pure: no DOM, tested in test/dashboard).
import type { ChangePoint } from "./types.ts";

const HOUR_MS = 3_600_000;

const partsFormatters = new Map<string, Intl.DateTimeFormat>();
/** The local date (YYYY-MM-DD) and hour of an instant in `zone`. */
export function localDateHour(ms: number, zone: string): { date: string; hour: number } {
  let f = partsFormatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", hourCycle: "h23" });
    partsFormatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return { date: `${p["year"]}-${p["month"]}-${p["day"]}`, hour: Number(p["hour"]) % 24 };
}

/** The value in force at `ms`: the last change point at or before it (undefined before the first). */
export function valueAt(points: readonly ChangePoint[], ms: number): ChangePoint | undefined {
  let found: ChangePoint | undefined;
  for (const p of points) {
    if (Date.parse(p.at) <= ms) found = p;
    else break;
  }
  return found;
}

export interface WeekCell {
  value: number;
  reason: string;
  at: number;
  /** Past `through` (a truncated timeline): the value is not known, only the last one before it. */
  unknown?: boolean;
}
export interface WeekGrid {
  days: string[];
  /** cells[day][hour]; undefined for hours already past (today) or missing (DST spring forward). */
  cells: Array<Array<WeekCell | undefined>>;
}

/**
 * Buckets the next `hours` hours by local date and hour (each cell: the value at the hour's start).
 * Hours after `through` (where a truncated timeline stops being complete) are marked unknown.
 */
export function weekGrid(points: readonly ChangePoint[], from: number, zone: string, hours = 168, through = Number.POSITIVE_INFINITY): WeekGrid {
  const days: string[] = [];
  const cells: Array<Array<WeekCell | undefined>> = [];
  const start = Math.floor(from / HOUR_MS) * HOUR_MS;
  for (let t = start; t < start + hours * HOUR_MS; t += HOUR_MS) {
    const { date, hour } = localDateHour(t, zone);
    let d = days.indexOf(date);
    if (d < 0) {
      if (days.length === 7) break;
      days.push(date);
      cells.push(Array.from({ length: 24 }, () => undefined));
      d = days.length - 1;
    }
    const row = cells[d] as Array<WeekCell | undefined>;
    const point = valueAt(points, Math.max(t, from));
    if (row[hour] === undefined && point !== undefined) row[hour] = { value: point.value, reason: point.reason, at: t, ...(t > through ? { unknown: true } : {}) };
  }
  return { days, cells };
}
