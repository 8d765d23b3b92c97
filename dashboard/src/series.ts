// Pure data shaping for the group chart: step series of desired (recorded past + timeline ahead) and actual (recorded past).
// No DOM here: test/dashboard/series.test.ts runs it in the offline suite.

export interface HistoryPointJson {
  at: string;
  desired: number;
  actual: Record<string, number>;
}
export interface ChangePointJson {
  at: string;
  value: number;
  reason: string;
  source: string;
}

/** uPlot's aligned data: x in epoch seconds, then one array per series (null: no value there). */
export interface ChartData {
  xs: number[];
  desired: (number | null)[];
  actual: (number | null)[];
  active: (number | null)[];
  /** Window and "now", epoch seconds. */
  from: number;
  now: number;
  to: number;
}

const sum = (byState: Record<string, number>): number => Object.values(byState).reduce((a, n) => a + (Number.isFinite(n) ? n : 0), 0);

/** The value of a step function (points oldest first, each holding from its instant on) at `t`, or null before the first. */
export function stepAt<P>(points: readonly P[], at: (p: P) => number, value: (p: P) => number, t: number): number | null {
  let out: number | null = null;
  for (const p of points) {
    if (at(p) <= t) out = value(p);
    else break;
  }
  return out;
}

/**
 * Builds the chart's series over [now - pastHours, now + aheadHours]. Desired comes from the recorded
 * history up to now (what the group really wanted: overrides and pauses included) and from the timeline
 * from now on; actual (all servers, and ACTIVE ones) only from the history, up to now. Every change instant
 * is an x value, so uPlot's stepped paths draw exact steps whatever the time zone (DST only relabels the axis).
 */
export function chartData(history: readonly HistoryPointJson[], timeline: readonly ChangePointJson[], nowMs: number, pastHours: number, aheadHours: number): ChartData {
  const from = nowMs - pastHours * 3_600_000;
  const to = nowMs + aheadHours * 3_600_000;
  const past = [...history].map((p) => ({ ...p, ms: Date.parse(p.at) })).filter((p) => Number.isFinite(p.ms)).sort((a, b) => a.ms - b.ms);
  const ahead = [...timeline].map((p) => ({ ...p, ms: Date.parse(p.at) })).filter((p) => Number.isFinite(p.ms)).sort((a, b) => a.ms - b.ms);

  const instants = new Set<number>([from, nowMs, to]);
  for (const p of past) if (p.ms > from && p.ms < nowMs) instants.add(p.ms);
  for (const p of ahead) if (p.ms > nowMs && p.ms < to) instants.add(p.ms);
  const xsMs = [...instants].sort((a, b) => a - b);

  const desired: (number | null)[] = [];
  const actual: (number | null)[] = [];
  const active: (number | null)[] = [];
  for (const t of xsMs) {
    if (t < nowMs) {
      desired.push(stepAt(past, (p) => p.ms, (p) => p.desired, t));
      actual.push(stepAt(past, (p) => p.ms, (p) => sum(p.actual), t));
      active.push(stepAt(past, (p) => p.ms, (p) => p.actual["ACTIVE"] ?? 0, t));
    } else {
      // The timeline's first point is the value now; fall back to the newest recorded desired.
      desired.push(stepAt(ahead, (p) => p.ms, (p) => p.value, t) ?? stepAt(past, (p) => p.ms, (p) => p.desired, t));
      // Actual is known up to now: the newest reading holds at "now", nothing after.
      actual.push(t === nowMs ? stepAt(past, (p) => p.ms, (p) => sum(p.actual), t) : null);
      active.push(t === nowMs ? stepAt(past, (p) => p.ms, (p) => p.actual["ACTIVE"] ?? 0, t) : null);
    }
  }
  return { xs: xsMs.map((t) => t / 1000), desired, actual, active, from: from / 1000, now: nowMs / 1000, to: to / 1000 };
}

/** The zone the group's times read in: the first schedule entry (or snapshot policy) with one, else UTC. */
export function groupZone(rules: unknown): string {
  const r = (rules ?? {}) as { timezone?: unknown; schedules?: { timezone?: unknown }[]; windows?: { timezone?: unknown }[]; snapshots?: { timezone?: unknown } };
  const candidates = [r.timezone, ...(r.schedules ?? []).map((s) => s?.timezone), ...(r.windows ?? []).map((w) => w?.timezone), r.snapshots?.timezone];
  const zone = candidates.find((z): z is string => typeof z === "string" && z !== "");
  return zone ?? "UTC";
}
