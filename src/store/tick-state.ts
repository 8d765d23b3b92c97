// The groups and snapshot policies a tick left for the next one (its budget ran short): one small KV value, written only when it changes.
import { z } from "zod";
import type { RulesKv } from "./rules.ts";

export const DEFERRED_KEY = "tick:deferred";

const DeferredEntrySchema = z.object({
  name: z.string().min(1),
  reason: z.enum(["subrequests", "deadline"]),
  steps: z.number().int().nonnegative(),
  message: z.string(),
});
export type DeferredEntry = z.infer<typeof DeferredEntrySchema>;

const DeferredSchema = z.object({
  version: z.literal(1),
  at: z.string(),
  groups: z.array(DeferredEntrySchema),
  /** Snapshot policies (run after the groups); absent in values written before policies existed. */
  policies: z.array(DeferredEntrySchema).optional(),
});
export type DeferredList = z.infer<typeof DeferredSchema>;

/**
 * A group's or policy's deferral for its status: from the newer of its last record and the tick's list
 * (the list is newer when the tick never reached it, so no record of that tick exists).
 */
export function deferralFor(
  list: DeferredList | undefined,
  kind: "groups" | "policies",
  name: string,
  last: { at: string; lastSeenAt?: string; deferred?: Omit<DeferredEntry, "name"> } | null,
): Omit<DeferredEntry, "name"> | null {
  if (list !== undefined && (last === null || Date.parse(list.at) > Date.parse(last.lastSeenAt ?? last.at))) {
    const listed = list[kind]?.find((entry) => entry.name === name);
    return listed === undefined ? null : { reason: listed.reason, steps: listed.steps, message: listed.message };
  }
  return last?.deferred ?? null;
}

/** The last tick's deferred groups and policies, each in the order they are to be served; a missing or unreadable value reads as none. */
export async function readDeferred(kv: Pick<RulesKv, "get">): Promise<DeferredList | undefined> {
  const raw = await kv.get(DEFERRED_KEY, "text");
  if (raw === null) return undefined;
  try {
    const parsed = DeferredSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Stores this tick's deferred groups and policies; writes nothing when the names are the same as before
 * (KV's free tier allows 1,000 writes a day: steady ticks write nothing, a scale event a few values).
 */
export async function writeDeferred(
  kv: Pick<RulesKv, "put" | "delete">,
  previous: DeferredList | undefined,
  at: string,
  groups: DeferredEntry[],
  policies: DeferredEntry[] = [],
): Promise<void> {
  const names = (list: readonly DeferredEntry[] | undefined) => (list ?? []).map((g) => g.name).join("\n");
  if (groups.length === 0 && policies.length === 0) {
    if (previous !== undefined) await kv.delete(DEFERRED_KEY);
    return;
  }
  if (previous !== undefined && names(previous.groups) === names(groups) && names(previous.policies) === names(policies)) return;
  await kv.put(DEFERRED_KEY, JSON.stringify({ version: 1, at, groups, ...(policies.length > 0 ? { policies } : {}) } satisfies DeferredList));
}
