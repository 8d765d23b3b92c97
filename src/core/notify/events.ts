// Notification events as a pure function of a group's reconcile outcome and the conditions the last one left open.
//
// A condition (boot blocked, capacity limited, ...) opens when a reconcile first shows it and stays one condition,
// with one event id, until a reconcile shows it cleared: then one "resolved" event follows (for a group error, that is
// the recovery). Repeating ticks of the same condition emit nothing, so dedupe and recovery are data, not timing.
import type { Desired } from "../model/types.ts";
import type { ActivityEntry, GroupHealth, TickRecord } from "../records.ts";

export const EVENT_TYPES = [
  "boot-failed",
  "boot-blocked",
  "capacity-limited",
  "group-error",
  "snapshot-failed",
  "snapshot-stale",
  "override",
  "paused",
  "schedule-not-followed",
  "signal",
  "test",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** How long actual may differ from desired before "schedule not followed" fires: converging takes a few ticks. */
export const OFF_SCHEDULE_GRACE_MS = 15 * 60_000;

/** What a reconcile saw, reduced to what notifications need (built from the tick record by `observe`). */
export interface Observation {
  group: string;
  at: string;
  desired: Pick<Desired, "value" | "reason">;
  /** Servers counted in the listing this reconcile acted on (the "old" of old -> new). */
  counted: number;
  /** Counted after this reconcile's actions: plus the servers its boots created, less the servers it deleted. */
  after: number;
  health: GroupHealth;
  paused: boolean;
  /** Why the group is paused, and since when for an operator pause (its `at`: the API and the reconcile give it one id). */
  pause?: { cause: string; since?: string };
  /** The first failed boot's message this reconcile, if any boot failed. */
  bootFailed?: string;
  /** A boot this reconcile succeeded (it ends a run of failed boots). */
  bootSucceeded: boolean;
  /** The group's boot block after this reconcile (Nova refused a boot; booting waits for new rules). */
  bootBlock?: { reason: string; at: string };
  /** Why boots were cut by quota. */
  capacity?: string;
  /** The first error of a failed reconcile (listing failed, a cloud call failed with nothing done). */
  error?: string;
  snapshotFailed?: string;
  snapshotSucceeded: boolean;
  snapshotStale?: string;
  override?: { desired: number; until: string; reason: string; author: string; createdAt: string };
}

/** An open condition, kept by the group's Durable Object between reconciles. */
export interface Condition {
  type: EventType;
  /** When it opened (the reconcile's `now`): with the group and type it makes the event id. */
  since: string;
  cause: string;
  /** Whether its "firing" event went out (schedule-not-followed waits for its grace first). */
  notified: boolean;
  /** The counted servers when it opened (the "old" of old -> new). */
  countAtStart: number;
}

/** One notification, as every sink formats it. */
export interface NotifyEvent {
  /** Stable: the same condition gives the same id on every tick and every retry (receivers dedupe on it). */
  id: string;
  group: string;
  type: EventType;
  status: "firing" | "resolved";
  severity: "critical" | "warning" | "info";
  /** The reconcile's `now` that produced it. */
  at: string;
  /** When the condition opened. */
  since: string;
  /** A short headline: "web: boot blocked", "web: recovered from group error". */
  title: string;
  /** The cause in a sentence, with the count: "Nova refused the boot: ... (servers 2 -> 2, desired 5)." */
  message: string;
  count: { old: number; new: number; desired: number };
}

const SEVERITY: Record<EventType, NotifyEvent["severity"]> = {
  "boot-failed": "warning",
  "boot-blocked": "critical",
  "capacity-limited": "warning",
  "group-error": "critical",
  "snapshot-failed": "warning",
  "snapshot-stale": "warning",
  override: "info",
  paused: "info",
  "schedule-not-followed": "warning",
  signal: "info",
  test: "info",
};

const FIRING_TITLE: Record<EventType, string> = {
  "boot-failed": "boot failed",
  "boot-blocked": "boot blocked",
  "capacity-limited": "capacity limited",
  "group-error": "group error",
  "snapshot-failed": "snapshot failed",
  "snapshot-stale": "snapshot stale",
  override: "override started",
  paused: "paused",
  "schedule-not-followed": "schedule not followed",
  signal: "signal raised the group",
  test: "test notification",
};

const RESOLVED_TITLE: Record<EventType, string> = {
  "boot-failed": "boots succeed again",
  "boot-blocked": "booting unblocked",
  "capacity-limited": "capacity no longer limited",
  "group-error": "recovered from group error",
  "snapshot-failed": "snapshots succeed again",
  "snapshot-stale": "snapshots current again",
  override: "override ended",
  paused: "resumed",
  "schedule-not-followed": "schedule followed again",
  signal: "signal ended",
  test: "test notification",
};

const RESOLVED_CAUSE: Record<EventType, string> = {
  "boot-failed": "Boots succeed again",
  "boot-blocked": "Booting resumes with the changed rules",
  "capacity-limited": "Quota no longer limits boots",
  "group-error": "The group reconciles without error again",
  "snapshot-failed": "A snapshot succeeded",
  "snapshot-stale": "Snapshots are current again",
  override: "The override ended and the schedule decides again",
  paused: "The group was resumed and acts on its rules again",
  "schedule-not-followed": "The group has the count its rules want again",
  signal: "The signal ended and the schedule decides again",
  test: "Test",
};

/** The part of a tick record and the group's state a notification needs (pure). */
export function observe(
  group: string,
  record: TickRecord,
  state: { bootBlock?: { reason: string; at: string } | undefined; override?: Observation["override"] | undefined; paused: boolean; pausedBy?: PausedBy | undefined },
  activity: readonly ActivityEntry[] = [],
): Observation {
  const failedBoot = record.results.find((r) => r.step.kind === "boot" && r.outcome === "failed");
  // A boot whose answer was lost is settled later (core/scaling/lost-boots.ts) as a "boot-failed" activity line.
  const settledFailed = activity.find((a) => a.kind === "boot-failed");
  let after = record.counted;
  for (const r of record.results) {
    if (r.outcome !== "done") continue;
    // Nova names only the first server of a multi-create: the step's count is what was asked and accepted.
    if (r.step.kind === "boot") after += r.step.count;
    else if (r.step.kind === "delete") after -= 1;
  }
  const failedSnapshot = record.results.find((r) => r.step.kind === "snapshot" && r.outcome === "failed");
  const exhausted = record.notices.find((n) => n.code === "snapshot-attempts-exhausted");
  const stale = record.notices.find((n) => n.code === "snapshots-stale" || n.code === "snapshot-missed");
  const capacity = record.notices.find((n) => n.code === "capacity-limited");
  const failedTick = record.listing === "failed" || (record.errors.length > 0 && record.results.length === 0 && state.bootBlock === undefined);
  const obs: Observation = {
    group,
    at: record.at,
    desired: { value: record.desired.value, reason: record.desired.reason },
    counted: record.counted,
    after: Math.max(0, after),
    health: record.health,
    paused: state.paused || record.health === "paused",
    bootSucceeded: record.results.some((r) => r.step.kind === "boot" && r.outcome === "done"),
    snapshotSucceeded: record.results.some((r) => r.step.kind === "snapshot" && r.outcome === "done"),
  };
  if (failedBoot !== undefined) obs.bootFailed = failedBoot.error?.message ?? "the boot request failed";
  else if (settledFailed !== undefined) obs.bootFailed = settledFailed.reason;
  if (state.bootBlock !== undefined) obs.bootBlock = state.bootBlock;
  if (record.health === "capacity-limited") obs.capacity = capacity?.message ?? "quota limits boots";
  if (failedTick) obs.error = record.errors[0]?.message ?? "the reconcile failed";
  if (failedSnapshot !== undefined || exhausted !== undefined) obs.snapshotFailed = failedSnapshot?.error?.message ?? exhausted?.message ?? "the snapshot failed";
  if (stale !== undefined) obs.snapshotStale = stale.message;
  if (state.override !== undefined) obs.override = state.override;
  const pause = pauseOf(obs.paused, state.pausedBy);
  if (pause !== undefined) obs.pause = pause;
  return obs;
}

/** An operator pause as the group's Durable Object keeps it. */
export interface PausedBy {
  by: string;
  at: string;
  reason?: string;
}

function pauseOf(paused: boolean, by: PausedBy | undefined): Observation["pause"] {
  if (by !== undefined) return { cause: `${by.by} paused the group: ${by.reason ?? "no reason given"}`, since: by.at };
  return paused ? { cause: "The group's rules pause it (paused: true)" } : undefined;
}

/** The event types an operator control (override, pause, resume) opens or closes: the API notifies these at once. */
export const CONTROL_EVENT_TYPES: readonly EventType[] = ["override", "paused"];

/**
 * What an operator control changed, as an observation of the group without a reconcile: the last tick's count
 * (old = new: a control acts on no server by itself) and the desired count the control leads to.
 */
export function controlObservation(input: {
  group: string;
  at: string;
  counted: number;
  desired: Pick<Desired, "value" | "reason">;
  override: Observation["override"] | undefined;
  pausedBy: PausedBy | undefined;
  rulesPaused: boolean;
}): Observation {
  const paused = input.pausedBy !== undefined || input.rulesPaused;
  const obs: Observation = {
    group: input.group,
    at: input.at,
    desired: input.desired,
    counted: input.counted,
    after: input.counted,
    health: paused ? "paused" : "unknown",
    paused,
    bootSucceeded: false,
    snapshotSucceeded: false,
  };
  if (input.override !== undefined) obs.override = input.override;
  const pause = pauseOf(paused, input.pausedBy);
  if (pause !== undefined) obs.pause = pause;
  return obs;
}

/** The conditions a reconcile shows, given the ones already open (some last until something clears them). */
function present(obs: Observation, open: ReadonlyMap<EventType, Condition>): Map<EventType, string> {
  const now = new Map<EventType, string>();
  if (obs.bootBlock !== undefined) now.set("boot-blocked", `Booting is blocked until the rules change: ${obs.bootBlock.reason}`);
  // A failed boot lasts until a boot succeeds or the group has what it wants (a later tick may send no boot at all).
  if (obs.bootBlock === undefined) {
    if (obs.bootFailed !== undefined) now.set("boot-failed", `A boot failed: ${obs.bootFailed}`);
    else {
      const was = open.get("boot-failed");
      if (was !== undefined && !obs.bootSucceeded && obs.counted < obs.desired.value) now.set("boot-failed", was.cause);
    }
  }
  if (obs.capacity !== undefined) now.set("capacity-limited", `Quota keeps the group from booting all it wants: ${obs.capacity}`);
  if (obs.error !== undefined) now.set("group-error", `The group's reconcile failed: ${obs.error}`);
  if (obs.snapshotFailed !== undefined) now.set("snapshot-failed", `A snapshot failed: ${obs.snapshotFailed}`);
  else {
    const was = open.get("snapshot-failed");
    if (was !== undefined && !obs.snapshotSucceeded) now.set("snapshot-failed", was.cause);
  }
  if (obs.snapshotStale !== undefined) now.set("snapshot-stale", `Snapshots are behind schedule: ${obs.snapshotStale}`);
  if (obs.override !== undefined) {
    const o = obs.override;
    now.set("override", `${o.author} holds the group at ${o.desired} until ${o.until}: ${o.reason}`);
  }
  if (obs.pause !== undefined) now.set("paused", obs.pause.cause);
  if (!obs.paused && obs.counted !== obs.desired.value) {
    now.set("schedule-not-followed", `The group has ${obs.counted} server(s) counted where ${obs.desired.reason} wants ${obs.desired.value}`);
  }
  return now;
}

/** The id of a condition's events: group, type and the instant it opened (an override: its creation). */
export function eventId(group: string, type: EventType, since: string, status: NotifyEvent["status"]): string {
  return `${group}/${type}/${since}${status === "resolved" ? "/resolved" : ""}`;
}

function sentence(text: string): string {
  const trimmed = text.trim().replace(/[.\s]+$/, "");
  return trimmed.length > 300 ? `${trimmed.slice(0, 297)}...` : trimmed;
}

function eventOf(obs: Observation, c: Condition, status: NotifyEvent["status"], old: number, cause: string): NotifyEvent {
  const count = { old, new: obs.after, desired: obs.desired.value };
  return {
    id: eventId(obs.group, c.type, c.since, status),
    group: obs.group,
    type: c.type,
    status,
    severity: status === "resolved" ? "info" : SEVERITY[c.type],
    at: obs.at,
    since: c.since,
    title: `${obs.group}: ${status === "firing" ? FIRING_TITLE[c.type] : RESOLVED_TITLE[c.type]}`,
    message: `${sentence(cause)} (servers ${count.old} -> ${count.new}, desired ${count.desired}).`,
    count,
  };
}

/**
 * The conditions after this reconcile and the events it produces: a "firing" event when a condition opens (for
 * schedule-not-followed: once it has lasted OFF_SCHEDULE_GRACE_MS), a "resolved" one when a notified condition
 * clears, nothing while a condition simply goes on. Counts: old = counted in this reconcile's listing (for
 * schedule-not-followed: when it opened), new = after this reconcile's actions.
 */
export function nextConditions(
  open: readonly Condition[],
  obs: Observation,
  graceMs: number = OFF_SCHEDULE_GRACE_MS,
  only?: readonly EventType[],
): { conditions: Condition[]; events: NotifyEvent[] } {
  const byType = new Map(open.map((c) => [c.type, c] as const));
  // `only` (an operator control): decide these types now; every other condition waits for the next reconcile unchanged.
  const seen = present(obs, byType);
  const outside = (type: EventType) => only !== undefined && !only.includes(type);
  for (const type of [...seen.keys()]) if (outside(type)) seen.delete(type);
  const old = obs.counted;
  const conditions: Condition[] = [];
  const events: NotifyEvent[] = [];
  const nowMs = Date.parse(obs.at);
  for (const [type, cause] of seen) {
    let c = byType.get(type);
    // A new override (another createdAt) is a new condition: the old one ended. A pause opens at the operator's `at`.
    const since = type === "override" && obs.override !== undefined ? obs.override.createdAt : type === "paused" ? obs.pause?.since : undefined;
    if (c !== undefined && type === "override" && since !== undefined && c.since !== since) {
      if (c.notified) events.push(eventOf(obs, c, "resolved", old, `The override set ${c.since} was replaced`));
      c = undefined;
    }
    if (c === undefined) c = { type, since: since ?? obs.at, cause, notified: false, countAtStart: old };
    else c = { ...c, cause };
    const due = type !== "schedule-not-followed" || nowMs - Date.parse(c.since) >= graceMs;
    if (!c.notified && due) {
      events.push(eventOf(obs, c, "firing", type === "schedule-not-followed" ? c.countAtStart : old, cause));
      c = { ...c, notified: true };
    }
    conditions.push(c);
  }
  for (const c of open) {
    if (outside(c.type)) {
      conditions.push(c);
      continue;
    }
    if (seen.has(c.type) || !c.notified) continue;
    events.push(eventOf(obs, c, "resolved", old, `${RESOLVED_CAUSE[c.type]}; it began ${c.since} with: ${c.cause}`));
  }
  return { conditions, events };
}

/** What a signal's event needs: the group's count before and after it, and the signal (core/schedule/signals.ts). */
export interface SignalChange {
  group: string;
  at: string;
  receiverId: string;
  receiverName: string;
  key: string;
  /** The signal's first acceptance: with the receiver and key it makes the event id (repeats share it). */
  since: string;
  until: string;
  status: NotifyEvent["status"];
  /** Why, in a sentence: "raised to at least 6 by alertmanager", "resolved by alertmanager", "expired". */
  cause: string;
  /** Servers counted at the last tick, and the desired count before and after the signal. */
  counted: number;
  desiredBefore: number;
  desiredAfter: number;
}

/**
 * The event of a signal starting (firing) or ending (resolved: cleared, expired, revoked). Its id is stable per
 * signal (group, receiver, source, first acceptance), so a repeat that only extends the signal sends nothing new
 * and receivers dedupe retries. The count says what the group will head for: old = counted, new = desired after.
 */
export function signalEvent(change: SignalChange): NotifyEvent {
  const source = change.key === "" ? "" : `/${encodeURIComponent(change.key.slice(0, 60))}`;
  const id = `${change.group}/signal/${change.receiverId}${source}/${change.since}${change.status === "resolved" ? "/resolved" : ""}`;
  const title = `${change.group}: ${change.status === "firing" ? FIRING_TITLE.signal : RESOLVED_TITLE.signal}`;
  const what =
    change.status === "firing"
      ? `Receiver '${change.receiverName}' ${change.cause} until ${change.until}; desired ${change.desiredBefore} -> ${change.desiredAfter}`
      : `Receiver '${change.receiverName}''s signal ${change.cause}; desired ${change.desiredBefore} -> ${change.desiredAfter}`;
  return {
    id,
    group: change.group,
    type: "signal",
    status: change.status,
    severity: "info",
    at: change.at,
    since: change.since,
    title,
    message: `${sentence(what)} (servers ${change.counted} -> ${change.counted}, desired ${change.desiredAfter}).`,
    count: { old: change.counted, new: change.counted, desired: change.desiredAfter },
  };
}
