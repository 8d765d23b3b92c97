// Server-hours from a group's recorded history: what ran, and what was saved against running `max` servers all the time.
import type { HistoryPoint } from "./history.ts";

/**
 * Nova states whose servers hold no running instance: stopped, shelved, gone. Their hours are not "run"
 * (a SHUTOFF server still holds its disk and often its quota; clouds that bill it count it themselves).
 */
export const NOT_RUNNING_STATES: ReadonlySet<string> = new Set(["SHUTOFF", "SHELVED", "SHELVED_OFFLOADED", "DELETED", "SOFT_DELETED", "SUSPENDED", "PAUSED"]);

export interface ServerHours {
  /** Hours of the span the history covers: from the later of `from` and the first reading, to `to`. */
  coveredHours: number;
  /** Server-hours of servers in a running state (every state but NOT_RUNNING_STATES). */
  run: number;
  /** max x coveredHours - run: what time-based scaling saved against running `max` servers all day (never below 0). */
  saved: number;
  /** Server-hours the group wanted (its desired count over the span). */
  desired: number;
}

const HOUR_MS = 3_600_000;
const round = (n: number): number => Math.round(n * 10) / 10;

/** Servers running in one reading. */
export function runningServers(actual: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const [state, count] of Object.entries(actual)) if (!NOT_RUNNING_STATES.has(state)) n += count;
  return n;
}

/**
 * Integrates the step function the points draw (each point holds from its `at` to the next one's, the
 * last to `to`) over [from, to]. Points are oldest first; the first may start before `from` (the state in
 * force at `from`). Time before the first reading is not counted: coveredHours says how much was.
 * Figures are rounded to 0.1 server-hour. Pure.
 */
export function serverHours(points: readonly HistoryPoint[], from: number, to: number, max: number): ServerHours {
  let runMs = 0;
  let desiredMs = 0;
  let coveredMs = 0;
  for (let i = 0; i < points.length; i += 1) {
    const p = points[i] as HistoryPoint;
    const start = Math.max(p.at, from);
    const end = Math.min(points[i + 1]?.at ?? to, to);
    if (end <= start) continue;
    const span = end - start;
    coveredMs += span;
    runMs += span * runningServers(p.actual);
    desiredMs += span * p.desired;
  }
  const coveredHours = coveredMs / HOUR_MS;
  const run = runMs / HOUR_MS;
  return { coveredHours: round(coveredHours), run: round(run), saved: round(Math.max(0, max * coveredHours - run)), desired: round(desiredMs / HOUR_MS) };
}
