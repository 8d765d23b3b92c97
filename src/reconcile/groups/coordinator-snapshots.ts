// Snapshot state in a group's Durable Object: policy attempts, the retention guard and the manual-snapshot log.
import { ManualSnapshotLogSchema, type ManualRequest } from "../../core/snapshots/manual-snapshots.ts";
import { RetentionGuardSchema, type RetentionGuard } from "../../core/snapshots/retention.ts";
import { SnapshotAttemptsSchema, type SnapshotAttempts } from "../../core/snapshots/snapshots.ts";
import { stillPresent, type NewestSnapshot } from "../../core/snapshots/snapshot-ages.ts";
import { NewestSnapshotsSchema } from "../../store/snapshot-ages.ts";
import type { ObservedServer } from "../../core/model/types.ts";
import type { CoordinatorStore } from "../../store/coordinator.ts";
import type { ReconcileRequest } from "./coordinator-request.ts";
import type { CloudPort } from "../gateway/gateway.ts";
import type { StoredGroup } from "../shared/service.ts";
import { runSnapshotTick, takeSnapshotNow, type TakeSnapshotResult } from "./snapshots.ts";
import type { GuardRefresh } from "../rules/current-guard.ts";

/** The storage slot the snapshot policy keeps its attempts in. */
const SNAPSHOT_SLOT = "snapshots";
/** The storage slot remembering recent manual snapshots (Idempotency-Key answers, repeats). */
const MANUAL_SLOT = "manual-snapshots";
/** The last cron tick's retention guard: GET snapshots and the plan preview show what it holds back. */
const GUARD_SLOT = "retention-guard";
/** Each member's newest active snapshot as of the last image listing (GET /metrics: snapshot age per server). */
const NEWEST_SLOT = "newest-snapshots";

/** The members' newest snapshots the ticks stored (empty when none were listed yet). */
export async function storedNewestSnapshots(store: CoordinatorStore): Promise<NewestSnapshot[]> {
  const parsed = NewestSnapshotsSchema.safeParse(await store.getSlot(NEWEST_SLOT));
  return parsed.success ? parsed.data : [];
}

/** The last cron tick's guard, for showing what retention holds back (deletions use only a fresh one). */
export async function rememberedGuard(store: CoordinatorStore): Promise<RetentionGuard | undefined> {
  const parsed = RetentionGuardSchema.safeParse(await store.getSlot(GUARD_SLOT));
  return parsed.success ? parsed.data : undefined;
}

export async function snapshotAttempts(store: CoordinatorStore): Promise<SnapshotAttempts | undefined> {
  const parsed = SnapshotAttemptsSchema.safeParse(await store.getSlot(SNAPSHOT_SLOT));
  return parsed.success ? parsed.data : undefined;
}

/** The snapshot half of a tick: runs the policy and stores its attempts and the tick's guard (each on change). */
export async function snapshotTick(store: CoordinatorStore, request: ReconcileRequest, cloud: CloudPort, members: ObservedServer[], now: Date, paused: () => Promise<boolean>, refreshGuard?: GuardRefresh) {
  const policy = request.group.rules.snapshots;
  if (policy === undefined) throw new Error("no snapshot policy");
  const attempts = await snapshotAttempts(store);
  // A paused group takes no action at all, snapshots included (they show as held back).
  const isPaused = request.group.rules.paused || (await paused());
  const result = await runSnapshotTick({ cloud, group: request.group.name, policy, members, attempts, now, author: request.author, paused: isPaused, guard: request.imageGuard, ...(refreshGuard === undefined ? {} : { refreshGuard }) });
  if (request.imageGuard !== undefined && JSON.stringify(request.imageGuard) !== JSON.stringify(await store.getSlot(GUARD_SLOT))) {
    await store.setSlot(GUARD_SLOT, request.imageGuard);
  }
  if (JSON.stringify(result.attempts) !== JSON.stringify(attempts)) await store.setSlot(SNAPSHOT_SLOT, result.attempts);
  // A settled tick lists no images: the stored answer stands, less the members that went away (written on change only).
  const stored = await storedNewestSnapshots(store);
  const newest = result.newest ?? stillPresent(stored, members);
  if (JSON.stringify(newest) !== JSON.stringify(stored)) await store.setSlot(NEWEST_SLOT, newest.length === 0 ? undefined : newest);
  return result;
}

/** Takes a snapshot now against the manual-snapshot log (kept for repeats and Idempotency-Key answers). */
export async function takeManualSnapshot(store: CoordinatorStore, group: StoredGroup, input: { author: string; now: string } & ManualRequest, cloud: CloudPort): Promise<TakeSnapshotResult> {
  const stored = ManualSnapshotLogSchema.safeParse(await store.getSlot(MANUAL_SLOT));
  const log = stored.success ? stored.data : [];
  const taken = await takeSnapshotNow({
    cloud,
    group: group.name,
    policy: group.rules.snapshots,
    author: input.author,
    now: new Date(input.now),
    request: { serverId: input.serverId, force: input.force, idempotencyKey: input.idempotencyKey },
    log,
  });
  if (taken.log.length !== log.length || taken.log.at(-1) !== log.at(-1)) await store.setSlot(MANUAL_SLOT, taken.log);
  store.appendActivity(taken.activity);
  return taken;
}
