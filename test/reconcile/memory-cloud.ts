// A small in-memory ComputeCloud with scripted faults, to drive the reconcile shell without HTTP.
// (The HTTP-level emulator is test/fake-cloud; this stands in for the cloud, not for the code under test.)
import type { ResourceRef } from "../../src/config/group.ts";
import type { ObservedImage, ObservedServer } from "../../src/core/model/types.ts";
import type { AbsoluteLimits, BootResult, BootSpec, ComputeCloud, ResolvedFlavor, ResolvedImage, ServerAction } from "../../src/openstack/cloud.ts";

export class CloudFault extends Error {
  readonly category: string;
  readonly status: number;
  constructor(category: string, status: number, message: string) {
    super(message);
    this.category = category;
    this.status = status;
  }
}

export interface MemoryCloudFaults {
  /** listServers throws this (once per call while set). */
  listServers?: CloudFault;
  /** Every boot throws this (nothing is created). */
  boot?: CloudFault;
  /** The next N boots create their servers but answer 500 (the response was "lost"). */
  bootLostResponses?: number;
  /** Instances quota (total servers allowed); boots over it throw a 403 quota error. */
  maxInstances?: number;
  /** /limits reports no instance limit even though Nova enforces maxInstances (a stale or lying /limits). */
  hideQuota?: boolean;
  /** Every server action throws this (nothing changes). */
  serverAction?: CloudFault;
  /** Cores quota; an unshelve from SHELVED_OFFLOADED over it throws a 403 quota error. */
  maxCores?: number;
  /** Every delete throws this (the server stays). */
  deleteServer?: CloudFault;
}

/** Where each parking action takes a server (this cloud settles at once; the fake cloud has the timings). */
const ACTION_RESULT: Record<ServerAction, { from: string[]; to: string }> = {
  shelve: { from: ["ACTIVE", "SHUTOFF"], to: "SHELVED_OFFLOADED" },
  shelveOffload: { from: ["SHELVED"], to: "SHELVED_OFFLOADED" },
  unshelve: { from: ["SHELVED", "SHELVED_OFFLOADED"], to: "ACTIVE" },
  stop: { from: ["ACTIVE", "ERROR"], to: "SHUTOFF" },
  start: { from: ["SHUTOFF"], to: "ACTIVE" },
};

let serial = 0;

export class MemoryCloud implements ComputeCloud {
  servers: ObservedServer[] = [];
  faults: MemoryCloudFaults = {};
  calls: string[] = [];
  bootSpecs: BootSpec[] = [];
  /** When set, each boot request waits for this before answering (to overlap two reconciles). */
  bootGate: Promise<void> | undefined;
  clock = new Date("2026-11-26T08:00:00Z");

  addServer(partial: Partial<ObservedServer> & { metadata: Record<string, string> }): ObservedServer {
    serial += 1;
    const server: ObservedServer = { id: `srv-${serial}`, name: `srv-${serial}`, status: "ACTIVE", created: this.clock.toISOString(), ...partial };
    this.servers.push(server);
    return server;
  }

  groupServers(group: string): ObservedServer[] {
    return this.servers.filter((s) => s.metadata["novascale:group"] === group);
  }

  /** Every BUILD server becomes ACTIVE (what Nova does between ticks on a healthy cloud). */
  settle(): void {
    for (const s of this.servers) if (s.status === "BUILD") s.status = "ACTIVE";
  }

  count(call: string): number {
    return this.calls.filter((c) => c === call).length;
  }

  async listServers(): Promise<ObservedServer[]> {
    this.calls.push("listServers");
    if (this.faults.listServers) throw this.faults.listServers;
    return this.servers.map((s) => ({ ...s, metadata: { ...s.metadata } }));
  }

  async resolveImage(ref: ResourceRef): Promise<ResolvedImage> {
    this.calls.push("resolveImage");
    const name = typeof ref === "string" ? ref : ref.id;
    if (name === "missing-image") throw new CloudFault("config", 400, `no image named '${name}'`);
    return { id: `img-${name}`, name };
  }

  async resolveFlavor(ref: ResourceRef): Promise<ResolvedFlavor> {
    this.calls.push("resolveFlavor");
    const name = typeof ref === "string" ? ref : ref.id;
    return { id: `flv-${name}`, name, vcpus: 1, ramMB: 512 };
  }

  async boot(spec: BootSpec): Promise<BootResult> {
    this.calls.push("boot");
    this.bootSpecs.push(spec);
    if (this.bootGate) await this.bootGate;
    if (this.faults.boot) throw this.faults.boot;
    const max = this.faults.maxInstances;
    if (max !== undefined && this.servers.length + spec.count > max) {
      throw new CloudFault("quota", 403, `Quota exceeded for instances: Requested ${spec.count}, but already used ${this.servers.length} of ${max} instances`);
    }
    const ids: string[] = [];
    for (let i = 1; i <= spec.count; i++) {
      const s = this.addServer({ name: spec.count > 1 ? `${spec.name}-${i}` : spec.name, status: "BUILD", metadata: { ...spec.metadata } });
      ids.push(s.id);
    }
    if ((this.faults.bootLostResponses ?? 0) > 0) {
      this.faults.bootLostResponses = (this.faults.bootLostResponses ?? 0) - 1;
      throw new CloudFault("transient", 500, "computeFault: the response was lost");
    }
    return { serverIds: ids.slice(0, 1) };
  }

  /** Most deletes seen in flight at once. */
  maxConcurrentDeletes = 0;
  #deletesInFlight = 0;

  async deleteServer(id: string): Promise<void> {
    this.calls.push("deleteServer");
    this.#deletesInFlight += 1;
    this.maxConcurrentDeletes = Math.max(this.maxConcurrentDeletes, this.#deletesInFlight);
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.#deletesInFlight -= 1;
    if (this.faults.deleteServer) throw this.faults.deleteServer;
    const before = this.servers.length;
    this.servers = this.servers.filter((s) => s.id !== id);
    if (this.servers.length === before) throw new CloudFault("notFound", 404, `no server ${id}`);
  }

  async serverAction(id: string, action: ServerAction): Promise<void> {
    this.calls.push(action);
    if (this.faults.serverAction) throw this.faults.serverAction;
    const server = this.servers.find((s) => s.id === id);
    if (server === undefined) throw new CloudFault("notFound", 404, `no server ${id}`);
    const rule = ACTION_RESULT[action];
    if (!rule.from.includes(server.status)) throw new CloudFault("transient", 409, `Cannot '${action}' instance ${id} while it is in vm_state ${server.status}`);
    if (action === "unshelve" && server.status === "SHELVED_OFFLOADED" && this.faults.maxCores !== undefined && this.#coresUsed() + 1 > this.faults.maxCores) {
      throw new CloudFault("quota", 403, "Quota exceeded for cores");
    }
    server.status = rule.to;
  }

  /** One core per server that holds its host (not SHELVED_OFFLOADED). */
  #coresUsed(): number {
    return this.servers.filter((s) => s.status !== "SHELVED_OFFLOADED").length;
  }

  async mergeServerMetadata(id: string, metadata: Record<string, string>): Promise<void> {
    this.calls.push("mergeServerMetadata");
    const server = this.servers.find((s) => s.id === id);
    if (server === undefined) throw new CloudFault("notFound", 404, `no server ${id}`);
    // Like Nova: metadata changes only in vm_state active, paused, suspended or stopped.
    if (["SHELVED", "SHELVED_OFFLOADED", "BUILD", "ERROR"].includes(server.status)) {
      throw new CloudFault("transient", 409, `Cannot 'update_instance_metadata' instance ${id} while it is in vm_state ${server.status.toLowerCase()}`);
    }
    server.metadata = { ...server.metadata, ...metadata };
  }

  async deleteServerMetadataItem(id: string, key: string): Promise<void> {
    this.calls.push("deleteServerMetadataItem");
    const server = this.servers.find((s) => s.id === id);
    if (server !== undefined) delete server.metadata[key];
  }

  async absoluteLimits(): Promise<AbsoluteLimits> {
    this.calls.push("absoluteLimits");
    return {
      maxTotalInstances: this.faults.hideQuota ? null : (this.faults.maxInstances ?? null),
      totalInstancesUsed: this.servers.length,
      maxTotalCores: this.faults.maxCores ?? null,
      totalCoresUsed: this.#coresUsed(),
      maxTotalRAMSize: null,
      totalRAMUsed: 0,
      maxServerMeta: 128,
      maxImageMeta: 128,
    };
  }

  async createImage(): Promise<string> {
    throw new CloudFault("config", 400, "not in this cloud");
  }
  async listImages(): Promise<ObservedImage[]> {
    return [];
  }
  async getImage(): Promise<ObservedImage | null> {
    return null;
  }
  async deleteImage(): Promise<void> {}
}
