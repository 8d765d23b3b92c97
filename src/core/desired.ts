// The desired server count of a group at a moment, and the rule that decided it (pure: depends only on `now`).
import type { GroupRules, Override, ScheduleEntry } from "../config/group.ts";
import type { Desired } from "./types.ts";
import { describeEntry, describeFiring, latestFiring } from "./schedule.ts";

export interface DesiredOptions {
  /** Who paused the group at run time (the group's Durable Object), if anyone. */
  pausedBy?: string;
}

/** A schedule entry together with its most recent firing. */
export interface EntryFiring {
  entry: ScheduleEntry;
  index: number;
  at: Date;
}

/**
 * The entry that decides: the one whose most recent firing is the latest.
 * Tie rule (several entries firing at the same instant): the larger desired value wins, and among
 * equal values the entry earlier in the list. Larger wins because scaling out too far for a moment is
 * cheaper than scaling in under load, and the result does not depend on the order of equal values.
 */
export function decidingEntry(entries: readonly ScheduleEntry[], firings: ReadonlyArray<Date | undefined>): EntryFiring | undefined {
  let best: EntryFiring | undefined;
  entries.forEach((entry, index) => {
    const at = firings[index];
    if (at === undefined) return;
    if (best === undefined) {
      best = { entry, index, at };
      return;
    }
    const later = at.getTime() > best.at.getTime();
    const tieAndLarger = at.getTime() === best.at.getTime() && entry.desired > best.entry.desired;
    if (later || tieAndLarger) best = { entry, index, at };
  });
  return best;
}

/** True while the override is in force: it ends by itself at `until`. */
export function overrideActive(override: Override | undefined, now: Date): override is Override {
  return override !== undefined && Date.parse(override.until) > now.getTime();
}

/**
 * The desired count given the deciding entry (already found). desiredCount and the timeline share it,
 * so both apply the same precedence: paused > unexpired override > latest-fired entry > default > min,
 * clamped to [min, max].
 */
export function decideDesired(
  rules: GroupRules,
  override: Override | undefined,
  now: Date,
  deciding: EntryFiring | undefined,
  opts: DesiredOptions = {},
): Desired {
  let chosen: Desired;
  if (overrideActive(override, now)) {
    chosen = {
      value: override.desired,
      source: "override",
      since: override.createdAt,
      reason: `override ${override.desired} by ${override.author} until ${override.until}: ${override.reason}`,
    };
  } else if (deciding !== undefined) {
    chosen = {
      value: deciding.entry.desired,
      source: "schedule",
      since: deciding.at.toISOString(),
      reason: `${describeEntry(deciding.entry, deciding.index)} ${describeFiring(deciding.entry, deciding.at)}: desired ${deciding.entry.desired}`,
    };
  } else if (rules.default !== undefined) {
    chosen = { value: rules.default, source: "default", reason: `default ${rules.default} (no schedule entry has fired yet)` };
  } else {
    chosen = { value: rules.min, source: "min", reason: `min ${rules.min} (no schedule entry has fired yet and no default is set)` };
  }
  const clamped = clamp(chosen, rules.min, rules.max);
  const pausedBy = rules.paused ? "the rules (paused: true)" : opts.pausedBy;
  if (pausedBy === undefined) return clamped;
  // Paused: no action is taken, but status still shows what the count would be.
  return { ...clamped, source: "paused", reason: `paused by ${pausedBy}; would otherwise be ${clamped.reason}` };
}

function clamp(desired: Desired, min: number, max: number): Desired {
  if (desired.value > max) return { ...desired, value: max, unclamped: desired.value, reason: `${desired.reason}; clamped to max ${max}` };
  if (desired.value < min) return { ...desired, value: min, unclamped: desired.value, reason: `${desired.reason}; raised to min ${min}` };
  return desired;
}

/** The desired count of a group at `now`. Stateless: missed ticks do no harm, the answer depends only on `now`. */
export function desiredCount(rules: GroupRules, override: Override | undefined, now: Date, opts: DesiredOptions = {}): Desired {
  const firings = rules.schedules.map((entry) => latestFiring(entry, now));
  return decideDesired(rules, override, now, decidingEntry(rules.schedules, firings), opts);
}
