// The desired server count of a group at a moment, and the rule that decided it (pure: depends only on `now`).
import type { ExceptionEntry, GroupRules, Override, PointEntry, WindowSchedule } from "../model/rules.ts";
import type { Desired } from "../model/types.ts";
import { describeDay, exceptionActive, exceptionLastEnd, exceptionRunStart } from "./calendar.ts";
import { describeEntry, describeFiring, isPointEntry, isWindowEntry, latestFiring } from "./schedule.ts";
import { raiseBySignals, type LiveSignal } from "./signals.ts";
import { lastWindowClose, openingAt, type Opening } from "./windows.ts";
import { formatInZone } from "./zoned.ts";

export interface DesiredOptions {
  /** Who paused the group at run time (the group's Durable Object), if anyone. */
  pausedBy?: string;
  /** The group's signals (the receivers' raises, core/schedule/signals.ts); expired ones are ignored. */
  signals?: readonly LiveSignal[];
}

/** A point entry (cron or one-shot) with its position in `schedules` (for naming) and, once known, its latest firing. */
export interface IndexedEntry<E> {
  entry: E;
  index: number;
}
export interface EntryFiring extends IndexedEntry<PointEntry> {
  at: Date;
}

/**
 * Which layer of the schedule decided (before signals, pausing and clamping): a live signal that raised the
 * count shows in the desired's source ("signal"), while the layer stays the schedule's (its edges still matter).
 */
/** "point": a cron or one-shot entry decided; "default": none has fired yet (default, else min). */
export type DesiredLayer = "override" | "exception" | "window" | "point" | "default";

export interface Decision {
  desired: Desired;
  layer: DesiredLayer;
}

export function pointEntries(rules: GroupRules): Array<IndexedEntry<PointEntry>> {
  return rules.schedules.flatMap((entry, index) => (isPointEntry(entry) ? [{ entry, index }] : []));
}

export function windowEntries(rules: GroupRules): Array<IndexedEntry<WindowSchedule>> {
  return rules.schedules.flatMap((entry, index) => (isWindowEntry(entry) ? [{ entry, index }] : []));
}

/**
 * The point entry that decides: the one whose most recent firing is the latest.
 * Tie rule (several entries firing at the same instant): the larger desired value wins, and among
 * equal values the entry earlier in the list. Larger wins because scaling out too far for a moment is
 * cheaper than scaling in under load, and the result does not depend on the order of equal values.
 */
export function decidingEntry(entries: ReadonlyArray<IndexedEntry<PointEntry>>, firings: ReadonlyArray<Date | undefined>): EntryFiring | undefined {
  let best: EntryFiring | undefined;
  entries.forEach(({ entry, index }, i) => {
    const at = firings[i];
    if (at === undefined) return;
    const later = best === undefined || at.getTime() > best.at.getTime();
    const tieAndLarger = best !== undefined && at.getTime() === best.at.getTime() && entry.desired > best.entry.desired;
    if (later || tieAndLarger) best = { entry, index, at };
  });
  return best;
}

/** Among entries that apply now, the largest desired value wins; between equal values, the earlier entry. */
function largest<T extends { entry: { desired: number } }>(candidates: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const c of candidates) if (best === undefined || c.entry.desired > best.entry.desired) best = c;
  return best;
}

/** True while the override is in force: it ends by itself at `until`. */
export function overrideActive(override: Override | undefined, now: Date): override is Override {
  return override !== undefined && Date.parse(override.until) > now.getTime();
}

/** The exception that applies on now's local day (largest desired if several), or undefined. */
export function activeException(rules: GroupRules, now: Date): IndexedEntry<ExceptionEntry> | undefined {
  const on = rules.exceptions.flatMap((entry, index) => (exceptionActive(entry, now.getTime()) ? [{ entry, index }] : []));
  return largest(on);
}

/** The window open at now (largest desired if several overlap), with the opening it is in. */
export function activeWindow(rules: GroupRules, now: Date): (IndexedEntry<WindowSchedule> & { opening: Opening }) | undefined {
  const open = windowEntries(rules).flatMap(({ entry, index }) => {
    const opening = openingAt(entry.window, entry.timezone, now.getTime());
    return opening === undefined ? [] : [{ entry, index, opening }];
  });
  return largest(open);
}

/** "window 'office hours' Mon-Fri 08:00-20:00 Europe/Berlin" (unnamed: "window #2 ..."). */
export function describeWindow(entry: WindowSchedule, index: number): string {
  return `window ${entry.name !== undefined ? `'${entry.name}'` : `#${index + 1}`} ${entry.window} ${entry.timezone}`;
}

/**
 * The desired count at `now` and the layer that set it. Precedence, highest first:
 * paused (no action; the value is still shown) > unexpired override > exception (the day is one of
 * its dates) > window (open now) > the point entry that fired last > default > min; then clamped to
 * [min, max]. Exceptions and windows that overlap: the largest desired wins (as GCP's and KEDA's
 * schedules do). A point entry that fires inside a window does not change the count while the
 * window is open; when the window closes, the point entry that fired last (even inside the window)
 * decides again. Live signals (opts.signals) raise what the schedule says and never lower it:
 * desired = clamp(max(schedule, live signals), min, max); an override beats them (core/schedule/signals.ts).
 */
export function decide(rules: GroupRules, override: Override | undefined, now: Date, opts: DesiredOptions = {}): Decision {
  let chosen: Desired;
  let layer: DesiredLayer;
  const exception = overrideActive(override, now) ? undefined : activeException(rules, now);
  const window = overrideActive(override, now) || exception !== undefined ? undefined : activeWindow(rules, now);
  if (overrideActive(override, now)) {
    layer = "override";
    chosen = {
      value: override.desired,
      source: "override",
      since: override.createdAt,
      reason: `override ${override.desired} by ${override.author} until ${override.until}: ${override.reason}`,
    };
  } else if (exception !== undefined) {
    layer = "exception";
    const { entry } = exception;
    chosen = {
      value: entry.desired,
      source: "exception",
      since: new Date(exceptionRunStart(entry, now.getTime())).toISOString(),
      reason: `exception '${entry.name}' (${describeDay(now.getTime(), entry.timezone)}): desired ${entry.desired}`,
    };
  } else if (window !== undefined) {
    layer = "window";
    const { entry, index, opening } = window;
    const until = formatInZone(new Date(opening.until), entry.timezone);
    chosen = { value: entry.desired, source: "window", since: new Date(opening.from).toISOString(), reason: `${describeWindow(entry, index)} (open until ${until}): desired ${entry.desired}` };
  } else {
    chosen = sinceLayersAbove(pointDesired(rules, now), rules, now);
    layer = chosen.source === "schedule" ? "point" : "default";
  }
  // An operator's explicit override wins over every signal; below it, signals only raise the schedule's answer.
  if (layer !== "override" && opts.signals !== undefined) chosen = raiseBySignals(chosen, opts.signals, now);
  const clamped = clamp(chosen, rules.min, rules.max);
  const pausedBy = rules.paused ? "the rules (paused: true)" : opts.pausedBy;
  if (pausedBy === undefined) return { desired: clamped, layer };
  // Paused: no action is taken, but status still shows what the count would be.
  return { desired: { ...clamped, source: "paused", reason: `paused by ${pausedBy}; would otherwise be ${clamped.reason}` }, layer };
}

/**
 * The point entry, default or min decides from the later of its own start (a firing; none for the default)
 * and the last moment a window or exception above it stopped applying: that is where this decision began, so
 * a server started by hand after a park is parked again once a window opened and closed (manualChanges respect).
 */
function sinceLayersAbove(chosen: Desired, rules: GroupRules, now: Date): Desired {
  let since = chosen.since === undefined ? undefined : Date.parse(chosen.since);
  const later = (t: number | undefined): void => {
    if (t !== undefined && t <= now.getTime() && (since === undefined || t > since)) since = t;
  };
  for (const { entry } of windowEntries(rules)) later(lastWindowClose(entry.window, entry.timezone, now.getTime()));
  for (const entry of rules.exceptions) later(exceptionLastEnd(entry, now.getTime()));
  return since === undefined ? chosen : { ...chosen, since: new Date(since).toISOString() };
}

/** What the point entries (else default, else min) say at `now`, before clamping. */
function pointDesired(rules: GroupRules, now: Date): Desired {
  const entries = pointEntries(rules);
  const deciding = decidingEntry(
    entries,
    entries.map(({ entry }) => latestFiring(entry, now)),
  );
  if (deciding !== undefined) {
    return {
      value: deciding.entry.desired,
      source: "schedule",
      since: deciding.at.toISOString(),
      reason: `${describeEntry(deciding.entry, deciding.index)} ${describeFiring(deciding.entry, deciding.at)}: desired ${deciding.entry.desired}`,
    };
  }
  if (rules.default !== undefined) return { value: rules.default, source: "default", reason: `default ${rules.default} (no schedule entry has fired yet)` };
  return { value: rules.min, source: "min", reason: `min ${rules.min} (no schedule entry has fired yet and no default is set)` };
}

export function clamp(desired: Desired, min: number, max: number): Desired {
  if (desired.value > max) return { ...desired, value: max, unclamped: desired.value, reason: `${desired.reason}; clamped to max ${max}` };
  if (desired.value < min) return { ...desired, value: min, unclamped: desired.value, reason: `${desired.reason}; raised to min ${min}` };
  return desired;
}

/** The desired count of a group at `now`. Stateless: missed ticks do no harm, the answer depends only on `now`. */
export function desiredCount(rules: GroupRules, override: Override | undefined, now: Date, opts: DesiredOptions = {}): Desired {
  return decide(rules, override, now, opts).desired;
}
