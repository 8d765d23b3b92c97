// A group's recorded history of desired and actual counts: when a reading is worth a row, and how the rows are bounded and thinned.

/** One reading: from `at` on, the group wanted `desired` and had `actual` servers by Nova status. */
export interface HistoryPoint {
  /** Epoch milliseconds. */
  at: number;
  desired: number;
  /** Servers by status (zero counts are never stored). */
  actual: Record<string, number>;
}

/** Nothing older than this is kept (except the newest point, which is the state now): 31 days, so the 30-day server-hours have their data. */
export const HISTORY_KEEP_MS = 31 * 24 * 3_600_000;

/**
 * Thinning tiers, youngest first: points younger than `youngerThan` keep at most one point per `bucket`
 * (0: every point). A step chart of the last 6 h shows every change; older days are coarser.
 */
export const HISTORY_TIERS: readonly { youngerThan: number; bucket: number }[] = [
  { youngerThan: 6 * 3_600_000, bucket: 0 },
  { youngerThan: 48 * 3_600_000, bucket: 5 * 60_000 },
  { youngerThan: HISTORY_KEEP_MS, bucket: 30 * 60_000 },
];

/** A hard cap on stored points whatever the clock does (about 100 bytes each). */
export const HISTORY_MAX_POINTS = 3_000;

/** How often (at most) the stored rows are thinned; thinning only ever runs along with a write. */
export const HISTORY_THIN_EVERY_MS = 10 * 60_000;

/** Drops zero counts and orders the keys, so equal states compare equal. */
export function normalizeActual(actual: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(actual).sort()) {
    const n = actual[key];
    if (n !== undefined && Number.isFinite(n) && n > 0) out[key] = n;
  }
  return out;
}

export function sameReading(a: Pick<HistoryPoint, "desired" | "actual">, b: Pick<HistoryPoint, "desired" | "actual">): boolean {
  return a.desired === b.desired && JSON.stringify(normalizeActual(a.actual)) === JSON.stringify(normalizeActual(b.actual));
}

/**
 * The point to store for a new reading, or undefined when it changes nothing (a steady tick writes nothing).
 * A reading stamped before the newest point (a cron tick's scheduled time can trail a manual reconcile)
 * is stored at the newest point's instant, so time never runs backwards on the chart.
 */
export function nextHistoryPoint(last: HistoryPoint | undefined, reading: HistoryPoint): HistoryPoint | undefined {
  if (last !== undefined && sameReading(last, reading)) return undefined;
  const at = last === undefined ? reading.at : Math.max(reading.at, last.at);
  return { at, desired: reading.desired, actual: normalizeActual(reading.actual) };
}

/**
 * Which stored points to keep at `now` (points oldest first). Rules: the newest point is always kept (it is
 * the state now, however old); other points older than HISTORY_KEEP_MS go; in each tier at most the last
 * point of each bucket stays (the state at the bucket's end); a kept point never repeats the one before it;
 * at most HISTORY_MAX_POINTS stay (the newest).
 */
export function thinHistory(points: readonly HistoryPoint[], now: number): HistoryPoint[] {
  const sorted = [...points].sort((a, b) => a.at - b.at);
  const newest = sorted[sorted.length - 1];
  if (newest === undefined) return [];
  const byBucket: HistoryPoint[] = [];
  for (let i = 0; i < sorted.length; i += 1) {
    const point = sorted[i] as HistoryPoint;
    if (point === newest) {
      byBucket.push(point);
      continue;
    }
    const age = now - point.at;
    const tier = HISTORY_TIERS.find((t) => age < t.youngerThan);
    if (tier === undefined) continue; // older than HISTORY_KEEP_MS
    if (tier.bucket === 0) {
      byBucket.push(point);
      continue;
    }
    // Keep the last point of its bucket: drop it when the next point falls in the same bucket of the same tier.
    const next = sorted[i + 1] as HistoryPoint;
    const nextTier = HISTORY_TIERS.find((t) => now - next.at < t.youngerThan);
    const sameBucket = nextTier === tier && Math.floor(next.at / tier.bucket) === Math.floor(point.at / tier.bucket);
    if (!sameBucket) byBucket.push(point);
  }
  const kept: HistoryPoint[] = [];
  for (const point of byBucket) {
    const previous = kept[kept.length - 1];
    if (previous !== undefined && sameReading(previous, point)) continue;
    kept.push(point);
  }
  return kept.slice(-HISTORY_MAX_POINTS);
}

/** Whether the rows are due for thinning (called only when a point is being written). */
export function thinningDue(lastThinnedAt: number | undefined, now: number): boolean {
  return lastThinnedAt === undefined || now - lastThinnedAt >= HISTORY_THIN_EVERY_MS || now < lastThinnedAt;
}
