// The boot backoff's part in a reconcile (core/scaling/boot-backoff.ts decides): ended before planning, fed after booting.
import { backoffEnds, backoffHolds, backoffMessage, erroredMembers, recordFailures, watchBooted, type BootBackoff, type BootFailure } from "../../core/scaling/boot-backoff.ts";
import type { ObservedServer } from "../../core/model/types.ts";
import type { ActivityEntry, StepResult } from "../shared/service.ts";

/** What every activity line of this reconcile carries: when, who, and the count it moves from and to. */
export type Stamp = Pick<ActivityEntry, "at" | "author" | "counts" | "tickRequestId">;

/**
 * Before planning: ends the backoff (newer rules, a server booted while backing off now ACTIVE), then
 * counts the members Nova put in ERROR since the last tick. Returns the backoff the plan obeys.
 */
export function backoffBeforePlan(
  backoff: BootBackoff | undefined,
  members: readonly ObservedServer[],
  /** Lost boots this reconcile settled as having created nothing. */
  lostBootFailures: readonly BootFailure[],
  revision: number,
  now: Date,
  stamp: Stamp,
): { backoff: BootBackoff | undefined; activity: ActivityEntry[] } {
  const activity: ActivityEntry[] = [];
  if (backoff !== undefined) {
    const ended = backoffEnds(backoff, members, revision);
    if (ended !== undefined) {
      activity.push({ ...stamp, kind: "boot-backoff-ended", reason: `boots resume: ${ended}` });
      backoff = undefined;
    }
  }
  return fail(backoff, [...lostBootFailures, ...erroredMembers(members, backoff)], revision, now, stamp, activity);
}

/** A boot request that failed, other than a rejection (config: the boot block) or quota (capacity-limited), or one never sent. */
function bootFailureOf(result: StepResult): BootFailure | undefined {
  if (result.step.kind !== "boot" || result.outcome !== "failed" || result.error === undefined) return undefined;
  const { category, notSent } = result.error;
  if (notSent === true || category === "config" || category === "quota") return undefined;
  return { cause: `the boot failed: ${result.error.message}` };
}

/** After executing: the failed boots count, the servers booted are watched for the first ACTIVE one. */
export function backoffAfterBoots(
  backoff: BootBackoff | undefined,
  results: readonly StepResult[],
  revision: number,
  now: Date,
  stamp: Stamp,
): { backoff: BootBackoff | undefined; activity: ActivityEntry[] } {
  const failures = results.flatMap((r) => {
    const f = bootFailureOf(r);
    return f === undefined ? [] : [f];
  });
  const out = fail(backoff, failures, revision, now, stamp, []);
  const booted = results.flatMap((r) => (r.step.kind === "boot" && r.outcome === "done" ? (r.serverIds ?? []) : []));
  return { backoff: watchBooted(out.backoff, booted), activity: out.activity };
}

function fail(
  backoff: BootBackoff | undefined,
  failures: readonly BootFailure[],
  revision: number,
  now: Date,
  stamp: Stamp,
  activity: ActivityEntry[],
): { backoff: BootBackoff | undefined; activity: ActivityEntry[] } {
  const next = recordFailures(backoff, failures, now, revision);
  if (next !== undefined && next !== backoff && backoffHolds(next, now)) {
    activity.push({ ...stamp, kind: "boot-backoff", reason: backoffMessage(next), count: next.failures });
  }
  return { backoff: next, activity };
}
