// Whose turn it is when a tick's budget reaches only part of the groups and policies: one small KV value, written only when the prediction changes.
import { z } from "zod";
import { ticksUntilTurn, type TurnState } from "../core/scaling/turns.ts";
import type { RulesKv } from "./rules.ts";

export const DEFERRED_KEY = "tick:deferred";

export const DeferredEntrySchema = z.object({
  name: z.string().min(1),
  reason: z.enum(["subrequests", "deadline"]),
  steps: z.number().int().nonnegative(),
  message: z.string(),
});
export type DeferredEntry = z.infer<typeof DeferredEntrySchema>;

/**
 * What is stored: the turn state (core/scaling/turns.ts) from which every tick predicts where its turn
 * order starts. It changes only when the set of groups and policies changes or a tick reaches fewer
 * items than predicted (rarely: not every minute), so a tick whose budget reaches only part of the
 * items writes nothing as long as nothing changed. Version 1 values (a list of deferred names,
 * rewritten whenever the list rotated) read as no state.
 */
const TurnStateSchema = z.object({
  ring: z.array(z.string()),
  base: z.number().int(),
  start: z.number().int().nonnegative(),
  stride: z.number().int().nonnegative(),
  reason: z.enum(["subrequests", "deadline"]),
});
const StoredTurnsSchema = z.object({ version: z.literal(2), at: z.string(), turns: TurnStateSchema });

export interface StoredTurns {
  /** The turn state, when a readable one is stored. */
  state?: TurnState;
  /** When it was stored (ISO). */
  at?: string;
  /** Whether the key holds anything (an older or unreadable value is deleted once everyone is served). */
  present: boolean;
}

/** The stored turn state; a missing, older or unreadable value reads as none. */
export async function readTurns(kv: Pick<RulesKv, "get">): Promise<StoredTurns> {
  const raw = await kv.get(DEFERRED_KEY, "text");
  if (raw === null) return { present: false };
  try {
    const parsed = StoredTurnsSchema.safeParse(JSON.parse(raw));
    return parsed.success ? { state: parsed.data.turns, at: parsed.data.at, present: true } : { present: true };
  } catch {
    return { present: true };
  }
}

/**
 * Stores the next turn state: nothing for "keep" (the prediction holds), a delete when nothing needs
 * remembering (only if something is stored), else one put. Answers what it did (tests count writes).
 */
export async function writeTurns(kv: Pick<RulesKv, "put" | "delete">, stored: StoredTurns, next: TurnState | undefined | "keep", at: string): Promise<"put" | "delete" | "none"> {
  if (next === "keep") {
    // An older or unreadable value is not state: it goes once.
    if (!stored.present || stored.state !== undefined) return "none";
    await kv.delete(DEFERRED_KEY);
    return "delete";
  }
  if (next === undefined) {
    if (!stored.present) return "none";
    await kv.delete(DEFERRED_KEY);
    return "delete";
  }
  await kv.put(DEFERRED_KEY, JSON.stringify({ version: 2, at, turns: next } satisfies z.infer<typeof StoredTurnsSchema>));
  return "put";
}

/** A record not seen for this long (ms) while ticks pass over it is reported as waiting for its turn. */
const NOT_REACHED_AFTER_MS = 90_000;

/**
 * A group's or policy's deferral for its status, at `now`: when the stored turns put it outside this
 * minute's part of the order and it has work waiting (its last record was cut short) or was not reached
 * lately, it waits its turn (in how many ticks, predicted); else whatever its last record says.
 */
export function deferralFor(
  turns: StoredTurns,
  kind: "groups" | "policies",
  name: string,
  last: { at: string; lastSeenAt?: string; deferred?: Omit<DeferredEntry, "name"> } | null,
  now: Date,
): Omit<DeferredEntry, "name"> | null {
  const item = { kind: kind === "groups" ? ("group" as const) : ("policy" as const), name };
  const ticks = ticksUntilTurn(turns.state, item, now);
  const stale = last === null || now.getTime() - Date.parse(last.lastSeenAt ?? last.at) > NOT_REACHED_AFTER_MS;
  if (turns.state !== undefined && ticks !== undefined && (stale || last?.deferred !== undefined)) {
    const { stride, ring, reason } = turns.state;
    const why = reason === "deadline" ? "time budget" : "subrequest budget";
    const message = `waits its turn: the tick's ${why} reaches about ${stride} of ${ring.length} groups and policies a minute, in turn; this one's comes with the tick ${ticks} minute(s) from now`;
    return { reason, steps: last?.deferred?.steps ?? 0, message };
  }
  return last?.deferred ?? null;
}
