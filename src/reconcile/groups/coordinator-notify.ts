// The group's notification conditions: after each reconcile, core/notify's pure nextConditions over the tick record,
// the open conditions kept in the group's storage, and the events handed to the Notifier (delivered by its alarm).
import type { Env } from "../../config/env.ts";
import { nextConditions, observe, type Condition, type NotifyEvent } from "../../core/notify/events.ts";
import type { Override } from "../../core/model/rules.ts";
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
  }, activity);
  const { conditions, events } = nextConditions(open, obs);
  if (JSON.stringify(conditions) !== JSON.stringify(open)) await store.setSlot(SLOT, conditions.length === 0 ? undefined : conditions);
  await notify(env, events);
  return events;
}
