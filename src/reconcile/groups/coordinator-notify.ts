// What a reconcile leaves for operators: counters for /metrics, and the group's notification conditions: after each reconcile, core/notify's pure nextConditions over the tick record,
// the open conditions kept in the group's storage, and the events handed to the Notifier (delivered by its alarm).
import type { Env } from "../../config/env.ts";
import { CONTROL_EVENT_TYPES, controlObservation, nextConditions, observe, OFF_SCHEDULE_GRACE_MS, type Condition, type NotifyEvent } from "../../core/notify/events.ts";
import type { GroupRules, Override } from "../../core/model/rules.ts";
import { desiredCount } from "../../core/schedule/desired.ts";
import type { LiveSignal } from "../../core/schedule/signals.ts";
import type { ActivityEntry, BootBlock, PauseState, TickRecord } from "../../core/records.ts";
import type { CoordinatorStore } from "../../store/coordinator.ts";
import { notify } from "../notify/notifier.ts";

const SLOT = "notify-conditions";

function readConditions(raw: unknown): Condition[] {
  return Array.isArray(raw) ? (raw.filter((c) => typeof c === "object" && c !== null && typeof (c as Condition).type === "string") as Condition[]) : [];
}

/** Derives this reconcile's events, keeps the conditions (written only when they changed) and queues the events. */
export async function followConditions(
  env: Env,
  store: CoordinatorStore,
  group: string,
  record: TickRecord,
  state: { bootBlock: BootBlock | undefined; override: Override | undefined; pause: PauseState | undefined; rulesPaused: boolean },
  activity: readonly ActivityEntry[],
): Promise<NotifyEvent[]> {
  const open = readConditions(await store.getSlot(SLOT));
  const obs = observe(group, record, {
    bootBlock: state.bootBlock,
    override: state.override,
    paused: state.pause !== undefined || state.rulesPaused,
    pausedBy: state.pause,
  }, activity);
  const { conditions, events } = nextConditions(open, obs);
  if (JSON.stringify(conditions) !== JSON.stringify(open)) await store.setSlot(SLOT, conditions.length === 0 ? undefined : conditions);
  await notify(env, events);
  return events;
}

/**
 * An operator control (override set or cleared, pause, resume) through the API: its override/paused events are
 * queued now, not at the next reconcile. The conditions are the same ones the reconcile keeps (same slot, same
 * ids: an override's `createdAt`, a pause's `at`), so the next reconcile finds them open and sends nothing again.
 * Counts: the last tick's counted servers (a control acts on none by itself), the desired count it leads to.
 */
export async function followControls(
  env: Env,
  store: CoordinatorStore,
  group: string,
  at: Date,
  state: { override: Override | undefined; pause: PauseState | undefined; lastTick: TickRecord | undefined; signals: readonly LiveSignal[] },
  rules: GroupRules | undefined,
): Promise<NotifyEvent[]> {
  const open = readConditions(await store.getSlot(SLOT));
  const override = state.override !== undefined && Date.parse(state.override.until) > at.getTime() ? state.override : undefined;
  const desired =
    rules !== undefined
      ? desiredCount(rules, override, at, { ...(state.pause !== undefined ? { pausedBy: state.pause.by } : {}), signals: state.signals })
      : (state.lastTick?.desired ?? { value: 0, reason: "unknown (no rules known yet)" });
  const obs = controlObservation({
    group,
    at: at.toISOString(),
    counted: state.lastTick?.counted ?? 0,
    desired,
    override,
    pausedBy: state.pause,
    rulesPaused: rules?.paused === true,
  });
  const { conditions, events } = nextConditions(open, obs, OFF_SCHEDULE_GRACE_MS, CONTROL_EVENT_TYPES);
  if (JSON.stringify(conditions) !== JSON.stringify(open)) await store.setSlot(SLOT, conditions.length === 0 ? undefined : conditions);
  await notify(env, events);
  return events;
}

const COUNTERS_SLOT = "metric-counters";

/** Cumulative counts for GET /metrics (Prometheus counters): servers booted and deleted, errors recorded. */
export interface GroupCounters {
  boots: number;
  deletes: number;
  errors: number;
}

export async function readCounters(store: CoordinatorStore): Promise<GroupCounters> {
  const raw = (await store.getSlot(COUNTERS_SLOT)) as Partial<GroupCounters> | undefined;
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0);
  return { boots: n(raw?.boots), deletes: n(raw?.deletes), errors: n(raw?.errors) };
}

/** Adds this reconcile's boots, deletes and errors (written only when there was any: a steady tick writes nothing). */
export async function countActions(store: CoordinatorStore, record: TickRecord): Promise<void> {
  let boots = 0;
  let deletes = 0;
  for (const r of record.results) {
    if (r.outcome !== "done") continue;
    if (r.step.kind === "boot") boots += r.step.count;
    else if (r.step.kind === "delete") deletes += 1;
  }
  // A steady tick repeating the same errors is one more occurrence each time: errors count per reconcile.
  const errors = record.errors.length;
  if (boots + deletes + errors === 0) return;
  const c = await readCounters(store);
  await store.setSlot(COUNTERS_SLOT, { boots: c.boots + boots, deletes: c.deletes + deletes, errors: c.errors + errors });
}
