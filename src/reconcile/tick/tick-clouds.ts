// The tick's cloud-regions: each opened once (one gateway: its token, discovery and name resolutions), listed once, in parallel; their status for GET /v1/clouds.
import { placementKey, type Placement } from "../../config/clouds.ts";
import type { Env } from "../../config/env.ts";
import type { ObservedServer } from "../../core/model/types.ts";
import type { CloudStatusRecord } from "../../core/records.ts";
import type { TickBudget } from "../gateway/budget.ts";
import { openCloud, type CloudFactory } from "../gateway/cloud-factory.ts";
import { CloudGateway, type Outcome } from "../gateway/gateway.ts";

/** One cloud-region in a tick: every group and policy placed there shares its gateway and its one listing. */
export interface CloudLane {
  key: string;
  placement: Placement;
  gateway: CloudGateway;
  /** Date.now() just before its listing was asked for (a group's stale-listing check compares with it). */
  listedAt: number;
  listing: Outcome<ObservedServer[]>;
}

/**
 * Opens and lists each cloud-region once, `concurrency` at a time, all charged to the tick's one budget.
 * They list in parallel so a slow or failing Keystone costs the others nothing but its own wait (at most
 * its request timeout or the tick's deadline), and a failed listing gives its own groups `listing-failed`
 * (no action there) while the other clouds' groups go on.
 */
export async function openLanes(env: Env, placements: readonly Placement[], budget: TickBudget, factory: CloudFactory | undefined, concurrency: number): Promise<Map<string, CloudLane>> {
  const lanes = new Map<string, CloudLane>();
  const queue = [...new Map(placements.map((p) => [placementKey(p), p])).entries()];
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const [key, placement] = next;
      const gateway = new CloudGateway(openCloud(env, factory, budget, placement), budget);
      const listedAt = Date.now();
      const listing = await gateway.listServers();
      lanes.set(key, { key, placement, gateway, listedAt, listing });
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), queue.length) }, worker));
  return lanes;
}

/** Each lane as the tick saw it, for the stored tick figures (the notifier keeps the last error and /limits across ticks). */
export function cloudStatuses(lanes: Iterable<CloudLane>, at: string): CloudStatusRecord[] {
  return [...lanes]
    .map((lane): CloudStatusRecord => {
      const { limits, ...health } = lane.gateway.cloudHealth();
      const error = lane.listing.ok ? undefined : lane.listing.error;
      return {
        cloud: lane.placement.cloud,
        region: lane.placement.region ?? null,
        at,
        listing: lane.listing.ok ? "complete" : "failed",
        ...(lane.listing.ok ? { servers: lane.listing.value.length, lastSuccessAt: at } : {}),
        ...(error === undefined ? {} : { lastError: { at, operation: error.operation, category: error.category, message: error.message } }),
        ...health,
        ...(limits === undefined ? {} : { limits: { at: limits.at, value: { ...limits.value } } }),
      };
    })
    .sort((a, b) => (placementKey({ cloud: a.cloud, region: a.region ?? undefined }) < placementKey({ cloud: b.cloud, region: b.region ?? undefined }) ? -1 : 1));
}
