// The group side of the rules fence (fence.ts): what a deleted group answers, and which rules lift a boot block.
import type { ReconcileRequest } from "./coordinator-request.ts";
import type { BootBlock, StoredGroup, TickRecord } from "../shared/service.ts";

/** A record of a request the coordinator refused to act on: who asked, with which rules; no steps, no results. */
function notReconciled(request: ReconcileRequest, outcome: Omit<TickRecord, "at" | "trigger" | "author" | "rulesEtag" | "rulesRevision" | "steps" | "results">): TickRecord {
  return {
    at: request.now,
    trigger: request.trigger,
    author: request.author,
    rulesEtag: request.group.etag,
    rulesRevision: request.group.revision,
    steps: [],
    results: [],
    ...outcome,
  };
}

/** The answer to a reconcile whose rules were deleted meanwhile: nothing done, nothing stored. */
export function deletedGroupRecord(request: ReconcileRequest, deletedAt: number): TickRecord {
  const message = `group '${request.group.name}' was deleted (revision ${deletedAt}) after these rules (revision ${request.group.revision}) were read: not reconciled`;
  return notReconciled(request, {
    desired: { value: 0, reason: "the group was deleted", source: "paused" },
    actualByStatus: {},
    counted: 0,
    listing: "failed",
    notices: [{ level: "error", code: "group-deleted", message }],
    errors: [{ operation: "reconcile", category: "config", message }],
    health: "error",
  });
}

/** A boot block is lifted only by newer rules (a stale copy of older rules never lifts it). */
export function liftsBootBlock(block: BootBlock, group: StoredGroup): boolean {
  return block.revision !== undefined ? group.revision > block.revision : block.etag !== group.etag;
}

/**
 * The answer to a request older than the newest one this group already reconciled at (a cron tick delayed
 * behind a newer tick or an apply-now): acting on it would undo the newer one (re-boot what it scaled in).
 * Nothing done, nothing stored. Only a strictly older `now` is stale: an equal one (a retried tick) runs.
 */
export function staleRequestRecord(request: ReconcileRequest, appliedNow: number, last: TickRecord | undefined): TickRecord {
  const newest = new Date(appliedNow).toISOString();
  const message = `a request at ${request.now} reached the group after one at ${newest} was applied: stale, not reconciled`;
  return notReconciled(request, {
    desired: last?.desired ?? { value: 0, reason: "stale request: not reconciled", source: "default" },
    actualByStatus: last?.actualByStatus ?? {},
    counted: last?.counted ?? 0,
    listing: last?.listing ?? "complete",
    notices: [{ level: "warning", code: "stale-tick", message }],
    errors: [],
    health: last?.health ?? "steady",
    stale: { appliedNow: newest },
  });
}
