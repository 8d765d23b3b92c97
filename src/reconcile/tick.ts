// The cron tick: read every group once, list the project's servers once, and hand each group to its Durable Object.
import type { Env } from "../config/env.ts";
import { partitionByGroup } from "../core/membership.ts";
import { loadAllGroups, type ReadGroupResult } from "../store/rules.ts";
import { coordinatorStub, type ReconcileRequest } from "./coordinator.ts";
import { CloudGateway } from "./gateway.ts";
import { openCloud, type CloudFactory } from "./cloud-factory.ts";
import type { ObservedServer } from "../core/types.ts";
import type { StoredGroup, TickRecord } from "./service.ts";

/**
 * Groups handed to their Durable Objects at once. A Worker invocation has 6 connections "waiting for
 * response headers"; each DO call waits on cloud calls it makes back through the gateway, from this same
 * invocation. Keeping DO calls to half the slots leaves the other half to those cloud calls: no deadlock.
 */
export const TICK_GROUP_CONCURRENCY = 3;

export interface TickOptions {
  cloudFactory?: CloudFactory;
  concurrency?: number;
}

export interface TickSummary {
  groups: number;
  /** Groups whose stored rules could not be read (reported, skipped). */
  unreadable: string[];
  listing: "complete" | "failed" | "skipped";
  records: Array<{ group: string; record?: TickRecord; failure?: string }>;
}

function toStoredGroup(result: Extract<ReadGroupResult, { ok: true }>): StoredGroup {
  const { rules, etag, updatedAt, updatedBy } = result.envelope;
  return { name: result.name, rules, etag, updatedAt, updatedBy };
}

/** One tick at `now` (the cron controller's scheduledTime). With no groups it makes no subrequest at all. */
export async function runTick(env: Env, now: Date, options: TickOptions = {}): Promise<TickSummary> {
  const read = await loadAllGroups(env.RULES, now);
  const summary: TickSummary = { groups: read.length, unreadable: [], listing: "skipped", records: [] };
  if (read.length === 0) return summary;

  const groups: StoredGroup[] = [];
  for (const r of read) {
    if (r.ok) groups.push(toStoredGroup(r));
    else {
      summary.unreadable.push(r.name);
      console.error(`novascale tick: skipping group '${r.name}': ${r.problem}`);
    }
  }
  if (groups.length === 0) return summary;

  // Bad settings give a cloud whose every call fails with the reason: each group records it as its error.
  const gateway = new CloudGateway(openCloud(env, options.cloudFactory));
  const listedAt = Date.now();
  const listing = await gateway.listServers();
  summary.listing = listing.ok ? "complete" : "failed";
  if (!listing.ok) console.error(`novascale tick: ${listing.error.operation} failed (${listing.error.category}): ${listing.error.message}`);
  const byGroup = listing.ok ? partitionByGroup(listing.value, groups.map((g) => g.name)) : new Map<string, ObservedServer[]>();

  const queue = [...groups];
  const worker = async () => {
    for (let group = queue.shift(); group !== undefined; group = queue.shift()) {
      const request: ReconcileRequest = {
        group,
        now: now.toISOString(),
        trigger: "cron",
        author: "cron",
        listing: listing.ok ? { members: byGroup.get(group.name) ?? [], listedAt } : { error: listing.error, listedAt },
        ...(gateway.tickRequestId === undefined ? {} : { tickRequestId: gateway.tickRequestId }),
      };
      try {
        const stub = coordinatorStub(env, group.name);
        const record = await stub.reconcile(request, gateway);
        summary.records.push({ group: group.name, record: record as TickRecord });
      } catch (error) {
        const failure = error instanceof Error ? error.message : String(error);
        console.error(`novascale tick: group '${group.name}' failed: ${failure}`);
        summary.records.push({ group: group.name, failure });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? TICK_GROUP_CONCURRENCY, groups.length) }, worker));
  const acted = summary.records.filter((r) => r.record !== undefined && r.record.results.length > 0 && r.record.at === now.toISOString());
  if (acted.length > 0 || summary.records.some((r) => r.failure !== undefined)) {
    // One line per tick that did something (names and counts only: nothing secret, nothing per server).
    const parts = acted.map((r) => `${r.group}: ${r.record?.results.length} step(s), ${r.record?.health}`);
    console.log(`novascale tick ${now.toISOString()}: ${groups.length} group(s), listing ${summary.listing}; ${parts.join("; ") || "no actions"}`);
  }
  return summary;
}
