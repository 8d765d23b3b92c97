// The group side of the rules fence (fence.ts): what a deleted group answers, and which rules lift a boot block.
import type { ReconcileRequest } from "./coordinator-request.ts";
import type { BootBlock, StoredGroup, TickRecord } from "../shared/service.ts";

/** The answer to a reconcile whose rules were deleted meanwhile: nothing done, nothing stored. */
export function deletedGroupRecord(request: ReconcileRequest, deletedAt: number): TickRecord {
  const message = `group '${request.group.name}' was deleted (revision ${deletedAt}) after these rules (revision ${request.group.revision}) were read: not reconciled`;
  return {
    at: request.now,
    trigger: request.trigger,
    author: request.author,
    rulesEtag: request.group.etag,
    rulesRevision: request.group.revision,
    desired: { value: 0, reason: "the group was deleted", source: "paused" },
    actualByStatus: {},
    counted: 0,
    listing: "failed",
    steps: [],
    results: [],
    notices: [{ level: "error", code: "group-deleted", message }],
    errors: [{ operation: "reconcile", category: "config", message }],
    health: "error",
  };
}

/** A boot block is lifted only by newer rules (a stale copy of older rules never lifts it). */
export function liftsBootBlock(block: BootBlock, group: StoredGroup): boolean {
  return block.revision !== undefined ? group.revision > block.revision : block.etag !== group.etag;
}
