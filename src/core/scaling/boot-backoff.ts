// Boot backoff: after repeated boot failures a group waits longer and longer before booting again (pure; `now` is a parameter).
//
// The schedule, stated once (README "Failures" and docs/api.md quote it):
//   failures in a row   1      2      3      4      5      6       7       8 and more
//   boots wait          0      1 min  2 min  4 min  8 min  16 min  32 min  60 min
// counted from the latest failure. One failure is ordinary churn (a hypervisor lost a server): its
// replacement boots in the same plan, as it always did. From the second failure in a row on, each one
// doubles the wait, up to an hour; the group keeps trying once an hour for as long as the cloud fails.
//
// What is a boot failure: a boot request Nova (or the network) failed, other than a rejection (a 400:
// booting is blocked until the rules change, BootBlock) or a quota refusal (capacity-limited); and a
// member of the group that Nova put in ERROR, counted once per server (its fault is the cause). What one
// look finds counts as one failure (three servers found in ERROR at once are one event).
// What ends it: a server booted while backing off that is later listed ACTIVE (success), a newer
// revision of the rules, or the operator's "retry boots" (POST /v1/groups/{name}/retry-boots).
import type { ObservedServer } from "../model/types.ts";

/** Minutes boots wait after the n-th failure in a row (index n - 1); the last entry repeats. */
export const BACKOFF_MINUTES: readonly number[] = [0, 1, 2, 4, 8, 16, 32, 60];

/** ERROR servers remembered as already counted (a server whose delete keeps failing is one failure). */
export const COUNTED_SERVERS_KEPT = 50;

/** Servers booted while backing off, watched for the first ACTIVE one (success). */
export const WATCHED_SERVERS_KEPT = 20;

/** A group's boot backoff, as its Durable Object keeps it. */
export interface BootBackoff {
  /** Failures in a row (>= 1). */
  failures: number;
  /** ISO-8601: the first failure of this run. */
  since: string;
  /** ISO-8601: the latest failure. */
  lastAt: string;
  /** ISO-8601: boots wait until then (equal to lastAt when the schedule says 0). */
  until: string;
  /** The latest failure's cause, in a sentence. */
  cause: string;
  /** The rules' revision the failures happened with: a newer one ends the backoff. */
  revision: number;
  /** ERROR servers already counted. */
  counted: string[];
  /** Servers booted since the first failure: the first of them listed ACTIVE ends the backoff. */
  watching: string[];
}

/** One boot failure seen by a tick. */
export interface BootFailure {
  cause: string;
  /** The ERROR server it was, when it was one. */
  serverId?: string;
  /** ISO-8601: when it failed, when that is known and earlier than the tick (a lost boot: when it was sent). */
  at?: string;
}

/** The wait after `failures` failures in a row, in ms. */
export function backoffDelayMs(failures: number): number {
  if (failures <= 0) return 0;
  const minutes = BACKOFF_MINUTES[Math.min(failures, BACKOFF_MINUTES.length) - 1] ?? 60;
  return minutes * 60_000;
}

/** True while boots wait. */
export function backoffHolds(backoff: BootBackoff | undefined, now: Date): backoff is BootBackoff {
  return backoff !== undefined && Date.parse(backoff.until) > now.getTime();
}

/** The sentence status, the plan and the notice show while boots wait. */
export function backoffMessage(backoff: BootBackoff): string {
  return `boots blocked until ${backoff.until} (${backoff.failures} failures in a row): ${backoff.cause}`;
}

/**
 * The ERROR members not yet counted, as failures (Nova's fault, when it gave one, is the cause).
 * A server only counts once, however many ticks list it in ERROR.
 */
export function erroredMembers(members: readonly ObservedServer[], backoff: BootBackoff | undefined): BootFailure[] {
  const counted = new Set(backoff?.counted ?? []);
  return members
    .filter((s) => s.status === "ERROR" && !counted.has(s.id))
    .map((s) => ({ serverId: s.id, cause: s.fault !== undefined ? `server ${s.name} went to ERROR: ${s.fault.message}` : `server ${s.name} went to ERROR (Nova gave no fault)` }));
}

/** Adds the failures one look found (in order; they count as one) to the backoff; the schedule counts from the latest one (`now` unless each says earlier). */
export function recordFailures(backoff: BootBackoff | undefined, failures: readonly BootFailure[], now: Date, revision: number): BootBackoff | undefined {
  if (failures.length === 0) return backoff;
  const latest = Math.max(...failures.map((f) => Math.min(f.at === undefined ? now.getTime() : Date.parse(f.at) || now.getTime(), now.getTime())));
  const at = new Date(latest).toISOString();
  // What one look at the group finds is one failure: three servers found in ERROR at once (a hypervisor
  // lost them together) are one event, not three in a row.
  const count = (backoff?.failures ?? 0) + 1;
  const servers = failures.flatMap((f) => (f.serverId === undefined ? [] : [f.serverId]));
  const last = failures[failures.length - 1] as BootFailure;
  return {
    failures: count,
    since: backoff?.since ?? at,
    lastAt: at,
    until: new Date(latest + backoffDelayMs(count)).toISOString(),
    cause: last.cause,
    revision,
    counted: [...(backoff?.counted ?? []), ...servers].slice(-COUNTED_SERVERS_KEPT),
    watching: backoff?.watching ?? [],
  };
}

/** Remembers the servers a boot created while backing off (the first one ACTIVE ends it). */
export function watchBooted(backoff: BootBackoff | undefined, serverIds: readonly string[]): BootBackoff | undefined {
  if (backoff === undefined || serverIds.length === 0) return backoff;
  return { ...backoff, watching: [...backoff.watching, ...serverIds].slice(-WATCHED_SERVERS_KEPT) };
}

/**
 * Why the backoff ends now, or undefined when it goes on: a newer revision of the rules, or a server
 * booted while backing off that is listed ACTIVE.
 */
export function backoffEnds(backoff: BootBackoff, members: readonly ObservedServer[] | undefined, revision: number): string | undefined {
  if (revision > backoff.revision) return `the rules changed (revision ${revision}) after ${backoff.failures} boot failure(s) in a row`;
  if (members === undefined) return undefined;
  const watching = new Set(backoff.watching);
  const up = members.find((s) => s.status === "ACTIVE" && watching.has(s.id));
  return up !== undefined ? `server ${up.name} booted and is ACTIVE after ${backoff.failures} boot failure(s) in a row` : undefined;
}
