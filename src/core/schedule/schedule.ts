// When schedule entries fire: cron entries in their own IANA time zone (via croner), one-shot `at` entries once.
import { Cron, CronPattern } from "croner";
import type { PointEntry, ScheduleEntry } from "../model/rules.ts";
import { formatInZone } from "./zoned.ts";

export { formatInZone };

/*
 * DST, the way Vixie cron does it (croner's fixedTimeRule "no-wildcard"):
 * - A fixed-time entry (minute and hour without `*` or a step, e.g. `30 2 * * *` or `0 8,20 * * *`)
 *   whose local time does not exist (spring forward) fires at the first valid instant after the gap
 *   (02:30 on the spring-forward night fires at 03:00), and one whose local time happens twice (fall
 *   back) fires once, at the first occurrence.
 * - A wildcard entry (`*` or a step in minute or hour, e.g. `*\/30 * * * *`) follows the wall clock:
 *   it skips the times a gap removes and fires on both occurrences of a repeated time.
 */
// Classic five-field cron only (minute hour day-of-month month day-of-week), as Vixie cron and
// Cloudflare's cron triggers: no seconds, and no year field, so every valid pattern has fired within
// the last few years and finding its latest firing stays cheap (a year field naming a future year
// would make croner search back to year 1).
const CRON_OPTIONS = { paused: true, mode: "5-part", fixedTimeRule: "no-wildcard" } as const;

/** Vixie cron's nicknames (no @reboot: there is no boot to run at). */
export const CRON_NICKNAMES: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** A pattern's five fields, nicknames expanded; throws with a readable message on anything else. */
export function cronFields(pattern: string): string[] {
  const trimmed = pattern.trim();
  if (trimmed.includes(":")) throw new Error("a cron pattern has no ':' (for a one-shot date-time use `at`)");
  if (trimmed.startsWith("@")) {
    const expanded = CRON_NICKNAMES[trimmed.toLowerCase()];
    if (expanded === undefined) throw new Error(`unknown nickname '${trimmed}' (known: ${Object.keys(CRON_NICKNAMES).join(", ")})`);
    return expanded.split(" ");
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) throw new Error(`five fields are needed (minute hour day-of-month month day-of-week), got ${fields.length}`);
  // croner's '+' prefix (force AND) is not cron syntax anywhere else; Vixie's own rule decides instead.
  if (fields[4]?.startsWith("+")) throw new Error("'+' in day-of-week is not cron syntax");
  fields[4] = unwrapWeekRanges(fields[4] ?? "*");
  return fields;
}

const DOW_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/** "5" or "fri" -> 5; 7 is Sunday too; undefined for anything else. */
function dowNumber(token: string): number | undefined {
  if (/^\d+$/.test(token)) return Number(token) <= 7 ? Number(token) : undefined;
  const i = DOW_NAMES.indexOf(token.toLowerCase());
  return i >= 0 ? i : undefined;
}

/**
 * Day-of-week ranges that wrap the week, read as cronie reads them: `Fri-Mon` is Fri, Sat, Sun, Mon
 * (rewritten `5-6,0-1` for croner, which refuses a range whose start is after its end); `mon-0` is
 * Mon to Sun. A step on a wrapping range is refused, naming the list to write instead.
 */
function unwrapWeekRanges(field: string): string {
  return field
    .split(",")
    .map((part) => {
      const m = /^([a-z]+|\d+)-([a-z]+|\d+)(\/\d+)?$/i.exec(part);
      if (m === null) return part;
      const from = dowNumber(m[1] ?? "");
      const to = dowNumber(m[2] ?? "");
      if (from === undefined || to === undefined) return part;
      const start = from === 7 ? 0 : from;
      if (start <= to) return part;
      const name = (d: number): string => (DOW_NAMES[d] ?? "").toUpperCase();
      const alternative = `${start === 6 ? "SAT" : `${name(start)}-SAT`},${to === 0 ? "SUN" : `SUN-${name(to)}`}`;
      if (m[3] !== undefined) throw new Error(`day-of-week range '${part}' wraps the week with a step: list the days instead (e.g. ${alternative} without the step)`);
      return to === 0 ? `${start}-6,0` : `${start}-6,0-${to}`;
    })
    .join(",");
}

/**
 * Vixie cron's day rule: when day-of-month or day-of-week starts with '*' (or '?', Quartz's "any"),
 * a day must match both fields (`0 0 *\/2 * 1` = Mondays that are odd days of the month); only when
 * both fields are restricted does a day match either one (`0 0 1 * 1` = the 1st and every Monday).
 */
export function vixieDomAndDow(fields: readonly string[]): boolean {
  return /^[*?]/.test(fields[2] ?? "*") || /^[*?]/.test(fields[4] ?? "*");
}

/** Patterns are compiled once per (zone, pattern); a paused croner job holds no timers and is reused read-only. */
const compiled = new Map<string, Cron>();
const COMPILED_CACHE_LIMIT = 512;

/** A croner job for a pattern in a zone, with Vixie's day rule. Throws on a malformed pattern or an unknown zone. */
export function compileCron(pattern: string, timezone: string): Cron {
  const key = `${timezone}\u0000${pattern}`;
  const cached = compiled.get(key);
  if (cached !== undefined) return cached;
  const fields = cronFields(pattern);
  // UTC has no DST: croner's fixed-offset mode gives the same firings without a time-zone lookup per step (about 5x cheaper).
  const zone = timezone === "UTC" || timezone === "Etc/UTC" ? { utcOffset: 0 } : { timezone };
  const job = new Cron(fields.join(" "), { ...CRON_OPTIONS, ...zone, domAndDow: vixieDomAndDow(fields) });
  if (compiled.size >= COMPILED_CACHE_LIMIT) compiled.clear();
  compiled.set(key, job);
  return job;
}

/** A valid pattern must fire within this many years of the check, in its own zone. */
export const CRON_HORIZON_YEARS = 30;
const problems = new Map<string, string | undefined>();

/**
 * Why a pattern is unusable in a zone as of `now`, or undefined: malformed, or it does not fire
 * within CRON_HORIZON_YEARS (e.g. "0 0 30 2 *", or "*\/15 2 * 3 0#L" in Europe/Berlin, whose only
 * times fall in the spring-forward gap): such an entry would silently never apply, or be served by
 * a firing decades old. 30 years cover every weekday-and-date coincidence of the Gregorian calendar
 * (it repeats every 28 years between leap-century exceptions). Memoised per calendar year: rules are
 * parsed on every tick.
 */
export function cronProblem(pattern: string, timezone: string, now: Date): string | undefined {
  const key = `${timezone}\u0000${now.getUTCFullYear()}\u0000${pattern}`;
  if (problems.has(key)) return problems.get(key);
  let problem: string | undefined;
  try {
    const next = compileCron(pattern, timezone).nextRun(now);
    const horizon = Date.UTC(now.getUTCFullYear() + CRON_HORIZON_YEARS, now.getUTCMonth(), now.getUTCDate());
    if (next === null || next.getTime() > horizon) {
      problem = `the pattern never fires in ${timezone} within ${CRON_HORIZON_YEARS} years (a day that never comes, or only times a DST switch skips)`;
    }
  } catch (e) {
    problem = e instanceof Error ? e.message.replace(/^CronPattern: /, "") : String(e);
  }
  if (problems.size >= COMPILED_CACHE_LIMIT) problems.clear();
  problems.set(key, problem);
  return problem;
}

/**
 * The last interval [latest, next) computed per (zone, pattern): inside it the latest firing is
 * `latest` and the next is `next`, so a walk through time (the timeline) or many entries with one
 * pattern ask croner once per firing, not once per question. Memoisation only: answers are the same.
 */
interface FiringSpan {
  latest: number | undefined;
  next: number | undefined;
}
const spans = new Map<string, FiringSpan>();

function spanAround(cron: string, timezone: string, t: number): FiringSpan {
  const key = `${timezone}\u0000${cron}`;
  const known = spans.get(key);
  // A span without `latest` says nothing fired before `next`, so it holds for earlier instants too.
  if (known !== undefined && (known.latest === undefined || known.latest <= t) && (known.next === undefined || t < known.next)) return known;
  const job = compileCron(cron, timezone);
  let latest: number | undefined;
  if (known?.next === t) {
    latest = t; // walking forward onto the next firing: it is the latest now
  } else {
    // croner's previousRuns excludes a run exactly at the reference, so look from just after `t`.
    const [before] = job.previousRuns(1, new Date(t + 1));
    latest = before !== undefined && before.getTime() <= t ? before.getTime() : undefined;
  }
  const next = job.nextRun(new Date(t))?.getTime() ?? undefined;
  const span = { latest, next };
  if (spans.size >= COMPILED_CACHE_LIMIT) spans.clear();
  spans.set(key, span);
  return span;
}

/** The most recent firing of `cron` in `timezone` at or before `now`, or undefined if it never fired. */
export function latestCronFiring(cron: string, timezone: string, now: Date): Date | undefined {
  const { latest } = spanAround(cron, timezone, now.getTime());
  return latest === undefined ? undefined : new Date(latest);
}

/** The next firing of `cron` in `timezone` strictly after `after`, or undefined if it never fires again. */
export function nextCronFiring(cron: string, timezone: string, after: Date): Date | undefined {
  const { next } = spanAround(cron, timezone, after.getTime());
  return next === undefined ? undefined : new Date(next);
}

export function isCronEntry(entry: ScheduleEntry): entry is Extract<ScheduleEntry, { cron: string }> {
  return "cron" in entry;
}

export function isWindowEntry(entry: ScheduleEntry): entry is Extract<ScheduleEntry, { window: string }> {
  return "window" in entry;
}

/** Point entries (cron and one-shot `at`) fire at instants; windows hold over spans and are decided apart. */
export function isPointEntry(entry: ScheduleEntry): entry is PointEntry {
  return !isWindowEntry(entry);
}

/** The most recent firing of an entry at or before `now` (a one-shot fires once, at its instant). */
export function latestFiring(entry: PointEntry, now: Date): Date | undefined {
  if (isCronEntry(entry)) return latestCronFiring(entry.cron, entry.timezone, now);
  const at = new Date(entry.at);
  return at.getTime() <= now.getTime() ? at : undefined;
}

/** The next firing of an entry strictly after `after`, or undefined if it never fires again. */
export function nextFiring(entry: PointEntry, after: Date): Date | undefined {
  if (isCronEntry(entry)) return nextCronFiring(entry.cron, entry.timezone, after);
  const at = new Date(entry.at);
  return at.getTime() > after.getTime() ? at : undefined;
}

/** Upper bound on firings one call returns, so a minutely entry over a long window stays cheap. */
export const MAX_FIRINGS_PER_CALL = 2_000;

/** Firings of an entry in (after, until], oldest first, at most MAX_FIRINGS_PER_CALL of them. */
export function nextFirings(entry: PointEntry, after: Date, until: Date): Date[] {
  if (!isCronEntry(entry)) {
    const at = new Date(entry.at);
    return at.getTime() > after.getTime() && at.getTime() <= until.getTime() ? [at] : [];
  }
  const firings: Date[] = [];
  let cursor: Date | undefined = after;
  while (firings.length < MAX_FIRINGS_PER_CALL) {
    cursor = nextCronFiring(entry.cron, entry.timezone, cursor);
    if (cursor === undefined || cursor.getTime() > until.getTime()) break;
    firings.push(cursor);
  }
  return firings;
}

/** How a schedule entry is named in reasons: its name if it has one, else its position and definition. */
export function describeEntry(entry: PointEntry, index: number): string {
  const label = entry.name !== undefined ? `'${entry.name}'` : `#${index + 1}`;
  return isCronEntry(entry) ? `schedule ${label} (${entry.cron} ${entry.timezone})` : `one-shot ${label} (at ${entry.at})`;
}

/** "fired 2026-11-26T08:00+01:00 (2026-11-26T07:00:00.000Z)": local time in the entry's zone, then ISO UTC. */
export function describeFiring(entry: PointEntry, firing: Date): string {
  const zone = isCronEntry(entry) ? entry.timezone : "UTC";
  const local = isCronEntry(entry) ? formatInZone(firing, zone) : entry.at;
  return `fired ${local} (${firing.toISOString()})`;
}

/** The field sets croner parsed, for comparing two patterns' firings without enumerating them. */
const patterns = new Map<string, CronPattern>();
function parsedPattern(pattern: string, timezone: string): CronPattern {
  const key = `${timezone}\u0000${pattern}`;
  let parsed = patterns.get(key);
  if (parsed === undefined) {
    parsed = new CronPattern(cronFields(pattern).join(" "), timezone, { mode: "5-part", fixedTimeRule: "no-wildcard" });
    if (patterns.size >= COMPILED_CACHE_LIMIT) patterns.clear();
    patterns.set(key, parsed);
  }
  return parsed;
}

const subset = (a: readonly number[], b: readonly number[]): boolean => a.every((bit, i) => !bit || Boolean(b[i]));
const everyDay = (fields: readonly string[]): boolean => /^[*?]$/.test(fields[2] ?? "") && /^[*?]$/.test(fields[4] ?? "");

/**
 * True when every firing of `inner` is provably also a firing of `outer` (same zone, same DST class,
 * field sets contained, days either unrestricted in `outer` or written the same). A conservative
 * test: false means "not proven". The timeline uses it to drop entries that can never decide.
 */
export function firingsContained(inner: PointEntry, outer: PointEntry): boolean {
  if (!isCronEntry(outer)) return false;
  if (!isCronEntry(inner)) return nextCronFiring(outer.cron, outer.timezone, new Date(Date.parse(inner.at) - 1))?.getTime() === Date.parse(inner.at);
  if (inner.timezone !== outer.timezone) return false;
  const a = parsedPattern(inner.cron, inner.timezone);
  const b = parsedPattern(outer.cron, outer.timezone);
  if (a.isFixedTime !== b.isFixedTime) return false;
  if (!subset(a.minute, b.minute) || !subset(a.hour, b.hour) || !subset(a.month, b.month)) return false;
  const fa = cronFields(inner.cron);
  const fb = cronFields(outer.cron);
  return everyDay(fb) || (fa[2] === fb[2] && fa[4] === fb[4]);
}
