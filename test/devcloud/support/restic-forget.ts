// A small, independent reference of restic's `forget` rule (and the calendar arithmetic it needs), for the real tier's expectations.
// Deliberately not src/core/retention.ts: the real tier checks the Worker against this, so the two must not share code.

const DAY_MS = 86_400_000;

/** The calendar date ("YYYY-MM-DD") that `at` falls on in `zone`. */
export function localDate(at: Date, zone: string): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(at);
}

function ymdParts(ymd: string): [number, number, number] {
  const [y, m, d] = ymd.split("-").map(Number) as [number, number, number];
  return [y, m, d];
}

/** `ymd` plus `days` calendar days. */
export function addDays(ymd: string, days: number): string {
  const [y, m, d] = ymdParts(ymd);
  return new Date(Date.UTC(y, m - 1, d) + days * DAY_MS).toISOString().slice(0, 10);
}

/** ISO weekday of a calendar date: 1 = Monday .. 7 = Sunday. */
export function isoWeekday(ymd: string): number {
  const [y, m, d] = ymdParts(ymd);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay() || 7;
}

/** ISO-8601 week ("YYYY-Www") of a calendar date: the week's Thursday decides the year; week 1 holds the year's first Thursday. */
export function isoWeek(ymd: string): string {
  const [y, m, d] = ymdParts(ymd);
  const thursday = new Date(Date.UTC(y, m - 1, d) + (4 - isoWeekday(ymd)) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const ordinal = Math.round((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS); // 0-based day of the year
  return `${year}-W${String(Math.floor(ordinal / 7) + 1).padStart(2, "0")}`;
}

/** The instant when clocks in `zone` show `ymd` at hh:mm (two passes over the zone's offset, enough away from DST gaps). */
export function zonedTime(ymd: string, hh: number, mm: number, zone: string): Date {
  const [y, m, d] = ymdParts(ymd);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  const offsetAt = (t: number): number => {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric" })
        .formatToParts(new Date(t))
        .map((p) => [p.type, p.value]),
    );
    return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute)) - t;
  };
  let t = wall - offsetAt(wall);
  t = wall - offsetAt(t);
  return new Date(t);
}

export interface ForgetRules {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
}

/**
 * restic's forget over one server's history: for every rule, walk the snapshots newest first and keep
 * one per new bucket until the rule's count is used up; buckets overlap (one snapshot may be kept by
 * several rules); a rule with count left at the oldest snapshot keeps that one too (restic >= 0.16, as
 * "oldest daily ..."). Buckets are the snapshot's time in `zone`. Answers, per snapshot time (ISO), the
 * reasons it is kept ("daily 2026-11-29", "weekly 2026-W48", ...); a time without reasons is deleted.
 */
export function resticForget(times: readonly string[], rules: ForgetRules, zone: string): Map<string, string[]> {
  const newestFirst = [...times].sort((a, b) => Date.parse(b) - Date.parse(a));
  const reasons = new Map(newestFirst.map((t) => [t, [] as string[]]));
  const day = (t: string) => localDate(new Date(t), zone);
  const buckets: Array<[number | undefined, string, (t: string, i: number) => string]> = [
    [rules.keepLast, "last", (_t, i) => `#${i + 1}`],
    [rules.keepDaily, "daily", (t) => day(t)],
    [rules.keepWeekly, "weekly", (t) => isoWeek(day(t))],
    [rules.keepMonthly, "monthly", (t) => day(t).slice(0, 7)],
    [rules.keepYearly, "yearly", (t) => day(t).slice(0, 4)],
  ];
  for (const [count, label, bucketOf] of buckets) {
    let left = count ?? 0;
    let previous: string | undefined;
    newestFirst.forEach((t, i) => {
      const bucket = bucketOf(t, i);
      // restic >= 0.16 also keeps the oldest snapshot while the rule has count left.
      const oldest = i === newestFirst.length - 1;
      if (left === 0 || (bucket === previous && !oldest)) return;
      reasons.get(t)!.push(`${bucket === previous ? "oldest " : ""}${label} ${bucket}`);
      previous = bucket;
      left--;
    });
  }
  return reasons;
}

/** The times `resticForget` keeps, newest first. */
export function resticKeeps(times: readonly string[], rules: ForgetRules, zone: string): string[] {
  return [...resticForget(times, rules, zone)].filter(([, why]) => why.length > 0).map(([t]) => t);
}
