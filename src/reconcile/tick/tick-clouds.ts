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
 * The share of the tick's remaining time a cloud-region's listing may take. Every group waits for all listings
 * (one ring of turns across clouds), so a slow Keystone or Nova must not use up the whole tick: past this, its
 * listing counts as failed for this tick (its groups act on nothing) and the other clouds' groups get the rest.
 */
export const LISTING_SHARE = 1 / 3;

/** The listing, or a transient failure once `deadline` (ms) has passed first (the request itself is left to end on its own). */
async function listWithin(gateway: CloudGateway, deadline: number | undefined): Promise<Outcome<ObservedServer[]>> {
  const listing = gateway.listServers();
  if (deadline === undefined) return listing;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<Outcome<ObservedServer[]>>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, error: { operation: "listServers", category: "transient", message: `the listing took longer than its share of the tick (${Math.round(LISTING_SHARE * 100)}% of the time left): the cloud is slow; its groups wait for the next tick` } }),
      Math.max(0, deadline - Date.now()),
    );
  });
  try {
    return await Promise.race([listing, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens and lists each cloud-region once, `concurrency` at a time, all charged to the tick's one budget.
 * They list in parallel so a slow or failing Keystone costs the others nothing but its own wait (at most
 * its request timeout or LISTING_SHARE of the tick's time), and a failed listing gives its own groups `listing-failed`
 * (no action there) while the other clouds' groups go on.
 */
export async function openLanes(env: Env, placements: readonly Placement[], budget: TickBudget, factory: CloudFactory | undefined, concurrency: number): Promise<Map<string, CloudLane>> {
  const lanes = new Map<string, CloudLane>();
  const queue = [...new Map(placements.map((p) => [placementKey(p), p])).entries()];
  const started = Date.now();
  const listDeadline = budget.deadline === undefined ? undefined : started + Math.max(0, budget.deadline - started) * LISTING_SHARE;
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const [key, placement] = next;
      const gateway = new CloudGateway(openCloud(env, factory, budget, placement), budget);
      const listedAt = Date.now();
      const listing = await listWithin(gateway, listDeadline);
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
