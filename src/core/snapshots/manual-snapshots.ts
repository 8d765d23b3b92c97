// Pure decisions for "take a snapshot now": which member, and whether a request repeats an earlier one (idempotency).
import { z } from "zod";
import type { SnapshotPolicy } from "../model/rules.ts";
import { describeSource, snapshotCandidates } from "./snapshots.ts";
import { snapshotImageName } from "./snapshot-images.ts";
import type { Notice, ObservedServer, Step } from "../model/types.ts";

/** An answer to an Idempotency-Key is replayed this long. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000;
/** A request without a key within this long of an earlier one, whose image is still in progress, gets that one (unless `force`). */
export const MANUAL_REPEAT_WINDOW_MS = 5 * 60_000;
/** Manual snapshots remembered per group (newest kept). */
export const MANUAL_LOG_LIMIT = 50;

/** One accepted manual snapshot, remembered in the group's Durable Object to answer repeats. */
export const ManualSnapshotRecordSchema = z
  .object({
    /** The Idempotency-Key it was taken under, if any. */
    key: z.string().optional(),
    /** What was asked (serverId, force): the same key with a different request is refused. */
    fingerprint: z.string(),
    at: z.string(),
    author: z.string(),
    imageId: z.string(),
    imageName: z.string(),
    serverId: z.string(),
    serverName: z.string(),
    firing: z.string(),
    reason: z.string(),
  })
  .strict();
export type ManualSnapshotRecord = z.infer<typeof ManualSnapshotRecordSchema>;
export const ManualSnapshotLogSchema = z.array(ManualSnapshotRecordSchema);

export interface ManualRequest {
  serverId?: string | undefined;
  force?: boolean | undefined;
  idempotencyKey?: string | undefined;
}

export function requestFingerprint(request: ManualRequest): string {
  return JSON.stringify({ serverId: request.serverId ?? null, force: request.force === true });
}

export type ManualRepeat =
  /** Same key, same request: answer what was answered. */
  | { kind: "replay"; record: ManualSnapshotRecord; reason: string }
  /** Same key, another request: refused (422). */
  | { kind: "key-reused"; record: ManualSnapshotRecord }
  /** No key, a recent one for the same target: it is the answer if its image is still in progress (the caller looks). */
  | { kind: "recent"; record: ManualSnapshotRecord }
  | { kind: "new" };

/** Is this request a repeat of one in `log` (oldest first)? Pure: the image's status is looked up by the caller for "recent". */
export function findRepeat(log: readonly ManualSnapshotRecord[], request: ManualRequest, now: Date): ManualRepeat {
  const age = (r: ManualSnapshotRecord) => now.getTime() - Date.parse(r.at);
  if (request.idempotencyKey !== undefined) {
    const earlier = [...log].reverse().find((r) => r.key === request.idempotencyKey && age(r) <= IDEMPOTENCY_KEY_TTL_MS);
    if (earlier === undefined) return { kind: "new" };
    if (earlier.fingerprint !== requestFingerprint(request)) return { kind: "key-reused", record: earlier };
    return { kind: "replay", record: earlier, reason: `the answer to Idempotency-Key '${request.idempotencyKey}' of ${earlier.at}` };
  }
  if (request.force === true) return { kind: "new" };
  const recent = [...log]
    .reverse()
    .find((r) => age(r) >= 0 && age(r) <= MANUAL_REPEAT_WINDOW_MS && (request.serverId === undefined || r.serverId === request.serverId));
  return recent === undefined ? { kind: "new" } : { kind: "recent", record: recent };
}

/** The log with `record` appended: expired entries and the oldest beyond the limit dropped. */
export function rememberManual(log: readonly ManualSnapshotRecord[], record: ManualSnapshotRecord, now: Date): ManualSnapshotRecord[] {
  const fresh = log.filter((r) => now.getTime() - Date.parse(r.at) <= IDEMPOTENCY_KEY_TTL_MS);
  return [...fresh, record].slice(-MANUAL_LOG_LIMIT);
}

export interface ManualSnapshotInput {
  group: string;
  policy: SnapshotPolicy | undefined;
  members: readonly ObservedServer[];
  now: Date;
  /** Who asked, for the reason. */
  author: string;
  serverId?: string;
}

/** "Take one now" from the API: a snapshot step for the chosen (or policy-chosen) ACTIVE member, or why not. */
export function planManualSnapshot(input: ManualSnapshotInput): { step: Step | null; notice: Notice | null } {
  const { group, policy, members, now, author } = input;
  const firing = new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString();
  const source = policy?.source ?? "oldest";
  const candidates = snapshotCandidates(group, input.serverId === undefined ? source : "oldest", members);
  const chosen = input.serverId === undefined ? candidates[0] : candidates.find((s) => s.id === input.serverId);
  if (chosen === undefined) {
    const what = input.serverId === undefined ? `no ${describeSource(source)}` : `no ACTIVE member with id '${input.serverId}' and no task under way`;
    return { step: null, notice: { level: "warning", code: "snapshot-no-source", message: `group '${group}' has ${what} to snapshot` } };
  }
  return {
    step: {
      kind: "snapshot",
      group,
      serverId: chosen.id,
      serverName: chosen.name,
      imageName: snapshotImageName(group, policy, firing, true),
      firing,
      attempt: 1,
      reason: `manual snapshot requested by ${author}`,
      manual: true,
    },
    notice: null,
  };
}
