// When schedule entries fire: cron entries in their own IANA time zone (via croner), one-shot `at` entries once.
import { Cron } from "croner";
import type { ScheduleEntry } from "../config/group.ts";

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

/** Patterns are compiled once per (zone, pattern); a paused croner job holds no timers and is reused read-only. */
const compiled = new Map<string, Cron>();
const COMPILED_CACHE_LIMIT = 512;

/**
 * A croner job for a pattern in a zone. Throws on a malformed pattern or an unknown zone.
 * A pattern containing ':' is refused: croner would read it as a one-shot date, and those belong in `at`.
 */
export function compileCron(pattern: string, timezone: string): Cron {
  const key = `${timezone}\u0000${pattern}`;
  const cached = compiled.get(key);
  if (cached !== undefined) return cached;
  if (pattern.includes(":")) throw new Error("a cron pattern has no ':' (for a one-shot date-time use `at`)");
  const job = new Cron(pattern, { ...CRON_OPTIONS, timezone });
  if (compiled.size >= COMPILED_CACHE_LIMIT) compiled.clear();
  compiled.set(key, job);
  return job;
}

const problems = new Map<string, string | undefined>();

/**
 * Why a pattern is unusable in a zone, or undefined: malformed, or it can never fire (e.g. "0 0 30 2 *"
 * parses but names a day that never comes, so the entry would silently never apply). Memoised: rules
 * are parsed on every tick.
 */
export function cronProblem(pattern: string, timezone: string): string | undefined {
  const key = `${timezone}\u0000${pattern}`;
  if (problems.has(key)) return problems.get(key);
  let problem: string | undefined;
  try {
    if (compileCron(pattern, timezone).nextRun(new Date(Date.UTC(1970, 0, 1))) === null) problem = "the pattern never fires";
  } catch (e) {
    problem = e instanceof Error ? e.message : String(e);
  }
  if (problems.size >= COMPILED_CACHE_LIMIT) problems.clear();
  problems.set(key, problem);
  return problem;
}

/** The most recent firing of `cron` in `timezone` at or before `now`, or undefined if it never fired. */
export function latestCronFiring(cron: string, timezone: string, now: Date): Date | undefined {
  // croner's previousRuns excludes a run exactly at the reference, so look from just after `now`.
  const [latest] = compileCron(cron, timezone).previousRuns(1, new Date(now.getTime() + 1));
  return latest !== undefined && latest.getTime() <= now.getTime() ? latest : undefined;
}

/** The next firing of `cron` in `timezone` strictly after `after`, or undefined if it never fires again. */
export function nextCronFiring(cron: string, timezone: string, after: Date): Date | undefined {
  return compileCron(cron, timezone).nextRun(after) ?? undefined;
}

export function isCronEntry(entry: ScheduleEntry): entry is Extract<ScheduleEntry, { cron: string }> {
  return "cron" in entry;
}

/** The most recent firing of an entry at or before `now` (a one-shot fires once, at its instant). */
export function latestFiring(entry: ScheduleEntry, now: Date): Date | undefined {
  if (isCronEntry(entry)) return latestCronFiring(entry.cron, entry.timezone, now);
  const at = new Date(entry.at);
  return at.getTime() <= now.getTime() ? at : undefined;
}

/** The next firing of an entry strictly after `after`, or undefined if it never fires again. */
export function nextFiring(entry: ScheduleEntry, after: Date): Date | undefined {
  if (isCronEntry(entry)) return nextCronFiring(entry.cron, entry.timezone, after);
  const at = new Date(entry.at);
  return at.getTime() > after.getTime() ? at : undefined;
}

/** Upper bound on firings one call returns, so a minutely entry over a long window stays cheap. */
export const MAX_FIRINGS_PER_CALL = 2_000;

/** Firings of an entry in (after, until], oldest first, at most MAX_FIRINGS_PER_CALL of them. */
export function nextFirings(entry: ScheduleEntry, after: Date, until: Date): Date[] {
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

const zonedFormatters = new Map<string, Intl.DateTimeFormat>();

function zonedFormatter(timezone: string): Intl.DateTimeFormat {
  let formatter = zonedFormatters.get(timezone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    zonedFormatters.set(timezone, formatter);
  }
  return formatter;
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, "0");

/** `instant` as local time with its UTC offset in `timezone`, e.g. "2026-11-26T08:00+01:00" (seconds only when not zero). */
export function formatInZone(instant: Date, timezone: string): string {
  const fields: Record<string, number> = {};
  for (const part of zonedFormatter(timezone).formatToParts(instant)) {
    if (part.type !== "literal") fields[part.type] = Number(part.value);
  }
  const year = fields.year ?? 0;
  const month = fields.month ?? 1;
  const day = fields.day ?? 1;
  const hour = fields.hour ?? 0;
  const minute = fields.minute ?? 0;
  const second = fields.second ?? 0;
  const localAsUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  const offsetMinutes = Math.round((localAsUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const offset = `${sign}${pad(Math.trunc(offsetMinutes / 60))}:${pad(offsetMinutes % 60)}`;
  const time = second === 0 ? `${pad(hour)}:${pad(minute)}` : `${pad(hour)}:${pad(minute)}:${pad(second)}`;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${time}${offset}`;
}

/** How a schedule entry is named in reasons: its name if it has one, else its position and definition. */
export function describeEntry(entry: ScheduleEntry, index: number): string {
  const label = entry.name !== undefined ? `'${entry.name}'` : `#${index + 1}`;
  return isCronEntry(entry) ? `schedule ${label} (${entry.cron} ${entry.timezone})` : `one-shot ${label} (at ${entry.at})`;
}

/** "fired 2026-11-26T08:00+01:00 (2026-11-26T07:00:00.000Z)": local time in the entry's zone, then ISO UTC. */
export function describeFiring(entry: ScheduleEntry, firing: Date): string {
  const zone = isCronEntry(entry) ? entry.timezone : "UTC";
  const local = isCronEntry(entry) ? formatInZone(firing, zone) : entry.at;
  return `fired ${local} (${firing.toISOString()})`;
}
