// Operator controls in a group's Durable Object: setting, clearing and expiring overrides; pausing and resuming.
import type { Override } from "../../config/group.ts";
import type { CoordinatorStore } from "../../store/coordinator.ts";
import type { PauseState } from "../shared/service.ts";

/** Where pause and resume write (a group's store, a policy's store). */
export type PauseStore = Pick<CoordinatorStore, "setPause" | "appendActivity">;

/** The part of the object's runtime state the controls change (held in memory, mirrored in storage). */
export interface Controls {
  override: Override | undefined;
  pause: PauseState | undefined;
}

/** Drops an override that has run out, once (with an activity line). */
export async function expireOverride(state: Controls, store: CoordinatorStore, now: Date): Promise<void> {
  if (state.override !== undefined && Date.parse(state.override.until) <= now.getTime()) {
    const ended = state.override;
    state.override = undefined;
    await store.setOverride(undefined);
    store.appendActivity([{ at: ended.until, kind: "override-expired", author: ended.author, reason: `override to ${ended.desired} ended (${ended.reason})` }]);
  }
}

export async function setOverride(state: Controls, store: CoordinatorStore, override: Override): Promise<Override> {
  state.override = override;
  await store.setOverride(override);
  store.appendActivity([{ at: override.createdAt, kind: "override-set", author: override.author, reason: `hold at ${override.desired} until ${override.until}: ${override.reason}` }]);
  return override;
}

export async function clearOverride(state: Controls, store: CoordinatorStore, author: string, at: string): Promise<Override | null> {
  const previous = state.override;
  if (previous === undefined) return null;
  state.override = undefined;
  await store.setOverride(undefined);
  store.appendActivity([{ at, kind: "override-cleared", author, reason: `override to ${previous.desired} (${previous.reason}) removed` }]);
  return previous;
}

export async function pause(state: Pick<Controls, "pause">, store: PauseStore, value: PauseState): Promise<PauseState> {
  if (state.pause !== undefined) return state.pause;
  state.pause = value;
  await store.setPause(value);
  store.appendActivity([{ at: value.at, kind: "pause", author: value.by, reason: value.reason ?? "paused by an operator" }]);
  return value;
}

export async function resume(state: Pick<Controls, "pause">, store: PauseStore, author: string, at: string): Promise<boolean> {
  if (state.pause === undefined) return false;
  state.pause = undefined;
  await store.setPause(undefined);
  store.appendActivity([{ at, kind: "resume", author, reason: "resumed by an operator" }]);
  return true;
}
