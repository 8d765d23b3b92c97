// Where the fake cloud's servers fit: per-flavor capacity and a pool of hosts (vCPU/RAM/disk each); a boot that fits nowhere gets Nova's NoValidHost.
import { z } from "zod";
import type { FakeFlavor, FakeServer } from "./model.ts";

/**
 * Nova's words when the scheduler finds no host (nova/exception.py NoValidHost with the reason of
 * nova/scheduler/manager.py `_ensure_sufficient_hosts`): the fault of a server left in ERROR.
 */
export const NO_VALID_HOST = "No valid host was found. There are not enough hosts available.";

/** At most this many servers of a flavor (by name or id) hold a host at once; flavors not named are unlimited. */
export const FlavorCapacitySchema = z.record(z.string().min(1), z.number().int().min(0));

/** `count` identical hosts; a server takes its flavor's vCPUs, RAM and disk from the first host with room. */
export const HostPoolSchema = z
  .object({
    count: z.number().int().min(0),
    vcpus: z.number().int().min(1),
    ramMB: z.number().int().min(1),
    diskGB: z.number().int().min(1).optional(),
  })
  .strict();

export const CapacityBodySchema = z
  .object({
    /** null: no per-flavor limit any more. */
    flavors: FlavorCapacitySchema.nullable().optional(),
    /** null: no host pool any more (room without end, the default). */
    hosts: HostPoolSchema.nullable().optional(),
  })
  .strict();

export type FlavorCapacity = z.output<typeof FlavorCapacitySchema>;
export type HostPool = z.output<typeof HostPoolSchema>;
export type CapacityBody = z.input<typeof CapacityBodySchema>;

export interface Capacity {
  flavors?: FlavorCapacity | undefined;
  hosts?: HostPool | undefined;
}

/** What the placement needs from the cloud: the servers that hold a host, and flavors by id. */
export interface Placed {
  servers: ReadonlyMap<string, FakeServer>;
  flavorById(id: string): FakeFlavor | undefined;
}

/** A server holds a host while it exists with one (a shelved-offloaded server gave its host back, as in Nova). */
function holdsHost(s: FakeServer): s is FakeServer & { host: string } {
  return typeof s.host === "string" && s.vmState !== "shelved_offloaded";
}

function hostName(index: number): string {
  return `compute-${index + 1}`;
}

/**
 * Places a reservation (one multi-create) all or nothing, as Nova's scheduler does: every server gets a
 * host, or none does (NoValidHost for all). Returns the host per server, or undefined when they do not fit.
 * Without capacity settings every server fits on "compute-1".
 */
export function place(capacity: Capacity, cloud: Placed, flavor: FakeFlavor, count: number): string[] | undefined {
  const held = [...cloud.servers.values()].filter(holdsHost);
  const limit = capacity.flavors?.[flavor.name] ?? capacity.flavors?.[flavor.id];
  if (limit !== undefined && held.filter((s) => s.flavorId === flavor.id).length + count > limit) return undefined;
  const pool = capacity.hosts;
  if (pool === undefined) return Array.from({ length: count }, () => hostName(0));
  const free = Array.from({ length: pool.count }, () => ({ vcpus: pool.vcpus, ramMB: pool.ramMB, diskGB: pool.diskGB ?? Number.POSITIVE_INFINITY }));
  for (const s of held) {
    const at = Number(/^compute-(\d+)$/.exec(s.host)?.[1] ?? 0) - 1;
    const room = free[at];
    const size = cloud.flavorById(s.flavorId);
    if (room === undefined || size === undefined) continue;
    room.vcpus -= size.vcpus;
    room.ramMB -= size.ram;
    room.diskGB -= size.disk;
  }
  const hosts: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = free.findIndex((room) => room.vcpus >= flavor.vcpus && room.ramMB >= flavor.ram && room.diskGB >= flavor.disk);
    const room = free[at];
    if (room === undefined) return undefined;
    room.vcpus -= flavor.vcpus;
    room.ramMB -= flavor.ram;
    room.diskGB -= flavor.disk;
    hosts.push(hostName(at));
  }
  return hosts;
}
