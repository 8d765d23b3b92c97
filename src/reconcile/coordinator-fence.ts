// The rules fence of a group's Durable Object: which rules a reconcile acts on, and what a deleted group answers.
import type { Notice } from "../core/types.ts";
import type { RulesFence } from "../store/coordinator.ts";
import type { ReconcileRequest } from "./coordinator-request.ts";
import type { BootBlock, StoredGroup, TickRecord } from "./service.ts";

/** What the group's rules are for a reconcile: the newest this object knows, or "deleted". */
export type Fenced = { group: StoredGroup; notice?: Notice } | { deleted: number };

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

function storedFrom(name: string, fence: RulesFence & { envelope: NonNullable<RulesFence["envelope"]> }): StoredGroup {
  const { rules, revision, etag, updatedAt, updatedBy } = fence.envelope;
  return { name, rules, revision, etag, updatedAt, updatedBy };
}

/**
 * The fence applied to the rules a reconcile was handed: newer than anything known -> adopted (`adopt`
 * is the fence to store; the registry's message may still be on its way); older -> the newest known copy
 * is used instead (a stale KV read never undoes a newer change); deleted at a newer revision -> nothing may act.
 */
export function applyFence(known: RulesFence | null, offered: StoredGroup): { fenced: Fenced; adopt?: RulesFence } {
  if (known === null || offered.revision > known.revision) {
    const { rules, revision, etag, updatedAt, updatedBy } = offered;
    return { fenced: { group: offered }, adopt: { revision, envelope: { rules, revision, etag, updatedAt, updatedBy } } };
  }
  if (known.envelope === null) return { fenced: { deleted: known.revision } };
  if (offered.revision === known.revision) return { fenced: { group: offered } };
  const message = `this reconcile was handed revision ${offered.revision} of the rules (a stale read); it acts on revision ${known.revision}, the newest accepted`;
  return { fenced: { group: storedFrom(offered.name, { ...known, envelope: known.envelope }), notice: { level: "info", code: "rules-newer", message } } };
}
