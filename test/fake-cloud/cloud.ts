// FakeCloud: an in-memory OpenStack (Keystone, Nova, Glance) with a virtual clock and injectable faults.
import { z } from "zod";
import { FakeClock, isoSeconds } from "./clock.ts";
import { CapacityBodySchema, place, type Capacity, type CapacityBody } from "./capacity.ts";
import { FaultSpecSchema, isExhausted, matchesRequest, matchesServerName } from "./faults.ts";
import type { ActiveFault, FaultKind, FaultSpec, FaultSpecInput, ServiceName } from "./faults.ts";
import { glanceError, isRecord, json, keystoneError, novaError, readJson, sleep, INVALID_JSON } from "./http.ts";
import { DEFAULT_USERS, FakeCloudOptionsSchema, SEED_FLAVORS, quotasFor } from "./model.ts";
import type {
  FakeAppCredential,
  FakeCloudOptions,
  FakeFlavor,
  FakeImage,
  FakeProject,
  FakeServer,
  FakeToken,
  FakeUser,
  Quotas,
  ResolvedOptions,
  ServerUsage,
} from "./model.ts";
import { SeededRandom } from "./random.ts";
import { handleIdentity } from "./keystone.ts";
import { handleCompute } from "./nova.ts";
import { handleImage } from "./glance.ts";

/** What a service handler gets for one request. */
export interface RequestContext {
  request: Request;
  url: URL;
  method: string;
  /** Path below the service prefix, e.g. "/v2.1/servers/detail". */
  path: string;
  /** Public roots of the services of this cloud, e.g. http://127.0.0.1:8774/compute */
  roots: ServiceRoots;
}

export interface ServiceRoots {
  origin: string;
  identity: string;
  compute: string;
  image: string;
}

/** A server as the control API and tests see it. */
export interface ServerSnapshot {
  id: string;
  numericId: number;
  name: string;
  project: string;
  status: string;
  taskState: string | null;
  vmState: string;
  metadata: Record<string, string>;
  tags: string[];
  description: string | null;
  flavor: string;
  imageId: string;
  reservationId: string;
  created: string;
  updated: string;
  /** The compute host it holds (null: none, e.g. after NoValidHost). */
  host: string | null;
  /** Nova's fault message on an ERROR server (null: none). */
  fault: string | null;
}

export interface ImageSnapshot {
  id: string;
  name: string;
  status: string;
  visibility: string;
  owner: string;
  properties: Record<string, string>;
  created: string;
}

export interface CloudStats {
  total: number;
  byService: Record<string, number>;
  /** "GET /compute/v2.1/servers/detail" -> count; ids are shown as {id}. */
  byRoute: Record<string, number>;
}

interface TimedEvent {
  at: number;
  seq: number;
  run: () => void;
}

const SeedServerSchema = z.object({
  name: z.string().min(1),
  project: z.string().default("demo"),
  metadata: z.record(z.string(), z.string()).default({}),
  tags: z.array(z.string()).default([]),
  status: z.enum(["ACTIVE", "BUILD", "ERROR", "SHUTOFF", "SHELVED", "SHELVED_OFFLOADED"]).default("ACTIVE"),
  flavor: z.string().default("m1.tiny"),
  image: z.string().default("cirros"),
  createdAt: z.union([z.number(), z.string()]).optional(),
});
export type SeedServerInput = z.input<typeof SeedServerSchema>;

const ClockBodySchema = z.union([
  z.object({ advanceMs: z.number().min(0) }).strict(),
  z.object({ set: z.union([z.number(), z.string()]) }).strict(),
]);

function toMs(value: number | string): number {
  const ms = typeof value === "number" ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${String(value)}`);
  return ms;
}

/** Ids and numbers in a path become {id}, so stats group requests by route. */
export function routeTemplate(path: string): string {
  return path
    .split("/")
    .map((seg) => (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(seg) || /^[0-9a-f]{32}$/i.test(seg) || /^\d+$/.test(seg) ? "{id}" : seg))
    .join("/");
}

export class FakeCloud {
  options: ResolvedOptions;
  clock: FakeClock;
  /** Where this cloud is mounted below the origin ("" or e.g. "/clouds/c1"). */
  readonly mountPath: string;
  rng: SeededRandom;

  // State: read and changed by the service modules (keystone.ts, nova.ts, glance.ts).
  projects = new Map<string, FakeProject>();
  users = new Map<string, FakeUser>();
  appCredentials = new Map<string, FakeAppCredential>();
  tokens = new Map<string, FakeToken>();
  flavors: FakeFlavor[] = [];
  servers = new Map<string, FakeServer>();
  images = new Map<string, FakeImage>();
  quotas = new Map<string, Quotas>();
  /** Per-flavor capacity and the host pool (capacity.ts); set from the options, changed by PUT /_fake/capacity. */
  capacity: Capacity = {};
  nextServerNumber = 1;
  nextImageNumber = 1;
  /** Rate-limit windows: key -> request instants. */
  rateWindows = new Map<string, number[]>();

  #events: TimedEvent[] = [];
  #eventSeq = 0;
  #faults: ActiveFault[] = [];
  #faultSeq = 0;
  #faultRandom = new Map<string, SeededRandom>();
  #pendingRevocation: number | null = null;
  #stats: CloudStats = { total: 0, byService: {}, byRoute: {} };

  /** Pass as a fetch function: `new Client({ fetch: cloud.fetch })`. */
  readonly fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => this.handle(new Request(input, init));

  /** The options as given, so a reset without new options keeps e.g. a real-time clock. */
  #given: FakeCloudOptions;

  constructor(options: FakeCloudOptions = {}, mountPath = "") {
    this.mountPath = mountPath.replace(/\/+$/, "");
    this.#given = options;
    this.options = FakeCloudOptionsSchema.parse(options);
    this.clock = new FakeClock(this.options.clock, this.options.startAt === undefined ? Date.now() : toMs(this.options.startAt));
    this.rng = new SeededRandom(this.options.seed);
    this.#seed();
    this.capacity = { flavors: this.options.capacity, hosts: this.options.hosts };
    for (const fault of this.options.faults) this.addFault(fault);
  }

  /** Forgets all state, faults and counters and seeds afresh; `options` override the ones given before. */
  reset(options: FakeCloudOptions = {}): void {
    this.options = FakeCloudOptionsSchema.parse({ ...this.#given, ...options });
    this.clock = new FakeClock(this.options.clock, this.options.startAt === undefined ? Date.now() : toMs(this.options.startAt));
    this.rng = new SeededRandom(this.options.seed);
    this.projects.clear();
    this.users.clear();
    this.appCredentials.clear();
    this.tokens.clear();
    this.servers.clear();
    this.images.clear();
    this.quotas.clear();
    this.rateWindows.clear();
    this.nextServerNumber = 1;
    this.nextImageNumber = 1;
    this.#events = [];
    this.#faults = [];
    this.#faultRandom.clear();
    this.#pendingRevocation = null;
    this.resetStats();
    this.#seed();
    this.capacity = { flavors: this.options.capacity, hosts: this.options.hosts };
    for (const fault of this.options.faults) this.addFault(fault);
  }

  #seed(): void {
    this.flavors = SEED_FLAVORS.map((f) => ({ ...f }));
    for (const seed of this.options.users ?? DEFAULT_USERS) {
      const domainId = seed.domain.toLowerCase() === "default" ? "default" : seed.domain;
      let project = this.projectByName(seed.project, domainId);
      if (project === undefined) {
        project = { id: this.rng.hex(32), name: seed.project, domainId };
        this.projects.set(project.id, project);
        this.quotas.set(project.id, quotasFor(this.options));
      }
      const user: FakeUser = { id: this.rng.hex(32), name: seed.name, password: seed.password, domainId, projectId: project.id, roles: seed.roles };
      this.users.set(user.id, user);
      for (const cred of seed.applicationCredentials ?? []) {
        this.appCredentials.set(cred.id, { id: cred.id, name: cred.name ?? cred.id, secret: cred.secret, userId: user.id, projectId: project.id });
      }
    }
    this.publicImage("cirros", {});
  }

  // ---- time -------------------------------------------------------------------------------------

  now(): number {
    return this.clock.now();
  }

  /** Moves the virtual clock and lets everything that was due happen. */
  advance(ms: number): number {
    this.clock.advance(ms);
    this.settle();
    return this.now();
  }

  setTime(at: number | string): number {
    this.clock.set(toMs(at));
    this.settle();
    return this.now();
  }

  /** Runs `run` once the clock reaches `at` (immediately on the next settle when already due). */
  schedule(at: number, run: () => void): void {
    this.#events.push({ at, seq: this.#eventSeq++, run });
  }

  /** Applies every due transition in time order; transitions may schedule further ones. */
  settle(): void {
    const now = this.now();
    for (;;) {
      let next: TimedEvent | undefined;
      for (const e of this.#events) if (e.at <= now && (next === undefined || e.at < next.at || (e.at === next.at && e.seq < next.seq))) next = e;
      if (next === undefined) return;
      this.#events.splice(this.#events.indexOf(next), 1);
      next.run();
    }
  }

  // ---- faults -----------------------------------------------------------------------------------

  /** Adds a fault; returns its id (for removeFault). */
  addFault(input: FaultSpecInput): string {
    const spec = FaultSpecSchema.parse(input);
    const id = `fault-${++this.#faultSeq}`;
    if (spec.kind === "revokeTokens") {
      if (spec.afterRequests === 0) this.revokeTokens();
      else this.#pendingRevocation = spec.afterRequests;
      return id;
    }
    this.#faults.push({ id, spec, fired: 0 });
    if (spec.kind === "randomErrors") this.#faultRandom.set(id, new SeededRandom(spec.seed ?? this.options.seed));
    return id;
  }

  removeFault(id: string): boolean {
    const before = this.#faults.length;
    this.#faults = this.#faults.filter((f) => f.id !== id);
    return this.#faults.length < before;
  }

  clearFaults(): void {
    this.#faults = [];
    this.#faultRandom.clear();
    this.#pendingRevocation = null;
  }

  listFaults(): ActiveFault[] {
    return this.#faults.map((f) => ({ ...f }));
  }

  /** The first live fault of this kind for this server name; counts it as fired. */
  takeServerFault<K extends FaultKind>(kind: K, serverName: string): Extract<FaultSpec, { kind: K }> | undefined {
    for (const fault of this.#faults) {
      if (fault.spec.kind !== kind || isExhausted(fault) || !matchesServerName(fault.spec, serverName)) continue;
      fault.fired++;
      return fault.spec as Extract<FaultSpec, { kind: K }>;
    }
    return undefined;
  }

  /** The first live imageBootsError fault for this image (and counts it as fired). */
  takeImageFault(imageId: string): Extract<FaultSpec, { kind: "imageBootsError" }> | undefined {
    for (const fault of this.#faults) {
      if (fault.spec.kind !== "imageBootsError" || isExhausted(fault) || fault.spec.imageId !== imageId) continue;
      fault.fired++;
      return fault.spec;
    }
    return undefined;
  }

  /** A public, active 16 MB qcow2 image owned by the admin project (the seeded cirros, or one a test adds). */
  private publicImage(name: string, properties: Record<string, string>): FakeImage {
    const owner = this.projectByName("admin") ?? [...this.projects.values()][0];
    const now = this.now();
    const image: FakeImage = {
      id: this.rng.uuid(),
      numericId: this.nextImageNumber++,
      name,
      status: "active",
      visibility: "public",
      ownerProjectId: owner?.id ?? "",
      created: now,
      updated: now,
      properties,
      size: 16338944,
      minDisk: 0,
      minRam: 0,
      diskFormat: "qcow2",
      containerFormat: "bare",
      protected: false,
      tags: [],
      checksum: this.rng.hex(32),
    };
    this.images.set(image.id, image);
    return image;
  }

  /** Adds a public, active image (a new build of a golden image, say); returns its snapshot. */
  addImage(input: unknown): ImageSnapshot {
    const spec = z.object({ name: z.string().min(1), properties: z.record(z.string(), z.string()).default({}) }).strict().parse(input);
    const image = this.publicImage(spec.name, spec.properties);
    return this.imageSnapshots().find((i) => i.id === image.id) as ImageSnapshot;
  }

  /** Renames an image (how an operator re-points a name at a new build: the old one renamed away). */
  renameImage(id: string, input: unknown): ImageSnapshot | undefined {
    const { name } = z.object({ name: z.string().min(1) }).strict().parse(input);
    const image = this.images.get(id);
    if (image === undefined) return undefined;
    image.name = name;
    image.updated = this.now();
    return this.imageSnapshots().find((i) => i.id === id);
  }

  /** Every token issued so far stops working (tokens issued later work). */
  revokeTokens(): number {
    let count = 0;
    for (const token of this.tokens.values()) {
      if (!token.revoked) count++;
      token.revoked = true;
    }
    this.#pendingRevocation = null;
    return count;
  }

  // ---- stats ------------------------------------------------------------------------------------

  stats(): CloudStats {
    return { total: this.#stats.total, byService: { ...this.#stats.byService }, byRoute: { ...this.#stats.byRoute } };
  }

  resetStats(): void {
    this.#stats = { total: 0, byService: {}, byRoute: {} };
  }

  // ---- lookups used by the services -------------------------------------------------------------

  projectByName(name: string, domainId?: string): FakeProject | undefined {
    for (const p of this.projects.values()) if (p.name === name && (domainId === undefined || p.domainId === domainId)) return p;
    return undefined;
  }

  quotaOf(projectId: string): Quotas {
    let q = this.quotas.get(projectId);
    if (q === undefined) {
      q = quotasFor(this.options);
      this.quotas.set(projectId, q);
    }
    return q;
  }

  flavorById(id: string): FakeFlavor | undefined {
    return this.flavors.find((f) => f.id === id);
  }

  /**
   * What a project's servers use; servers being deleted still count until they are gone (like Nova).
   * A SHELVED_OFFLOADED server holds an instance but no cores or RAM (Nova's quota counting from placement).
   */
  usage(projectId: string): ServerUsage {
    const used: ServerUsage = { instances: 0, cores: 0, ram: 0 };
    for (const s of this.servers.values()) {
      if (s.projectId !== projectId) continue;
      const flavor = this.flavorById(s.flavorId);
      used.instances++;
      if (s.vmState === "shelved_offloaded") continue;
      used.cores += flavor?.vcpus ?? 0;
      used.ram += flavor?.ram ?? 0;
    }
    return used;
  }

  /** The token named by X-Auth-Token, or undefined when missing, unknown, expired or revoked. */
  authenticate(request: Request): FakeToken | undefined {
    const id = request.headers.get("X-Auth-Token");
    if (id === null) return undefined;
    const token = this.tokens.get(id);
    if (token === undefined || token.revoked || token.expiresAt <= this.now()) return undefined;
    return token;
  }

  // ---- views for tests and the control API ------------------------------------------------------

  serverSnapshots(projectName?: string): ServerSnapshot[] {
    const out: ServerSnapshot[] = [];
    for (const s of this.servers.values()) {
      const project = this.projects.get(s.projectId);
      if (projectName !== undefined && project?.name !== projectName) continue;
      out.push({
        id: s.id,
        numericId: s.numericId,
        name: s.name,
        project: project?.name ?? s.projectId,
        status: s.status,
        taskState: s.taskState,
        vmState: s.vmState,
        metadata: { ...s.metadata },
        tags: [...s.tags],
        description: s.description,
        flavor: this.flavorById(s.flavorId)?.name ?? s.flavorId,
        imageId: s.imageId,
        reservationId: s.reservationId,
        created: isoSeconds(s.created),
        updated: isoSeconds(s.updated),
        host: s.host ?? null,
        fault: s.fault?.message ?? null,
      });
    }
    return out.sort((a, b) => a.created.localeCompare(b.created) || a.name.localeCompare(b.name));
  }

  imageSnapshots(): ImageSnapshot[] {
    return [...this.images.values()].map((i) => ({
      id: i.id,
      name: i.name,
      status: i.status,
      visibility: i.visibility,
      owner: this.projects.get(i.ownerProjectId)?.name ?? i.ownerProjectId,
      properties: { ...i.properties },
      created: isoSeconds(i.created),
    }));
  }

  /** Puts a server straight into the cloud (e.g. one novascale must never touch). */
  seedServer(input: SeedServerInput): ServerSnapshot {
    const spec = SeedServerSchema.parse(input);
    const project = this.projectByName(spec.project);
    if (project === undefined) throw new RangeError(`no project ${spec.project}`);
    const user = [...this.users.values()].find((u) => u.projectId === project.id);
    const flavor = this.flavors.find((f) => f.name === spec.flavor || f.id === spec.flavor);
    if (flavor === undefined) throw new RangeError(`no flavor ${spec.flavor}`);
    const image = [...this.images.values()].find((i) => i.name === spec.image || i.id === spec.image);
    if (image === undefined) throw new RangeError(`no image ${spec.image}`);
    const created = spec.createdAt === undefined ? this.now() : toMs(spec.createdAt);
    const active = spec.status !== "BUILD";
    const server: FakeServer = {
      id: this.rng.uuid(),
      numericId: this.nextServerNumber++,
      name: spec.name,
      hostname: spec.name.toLowerCase().replace(/[^a-z0-9-]/g, "-"),
      projectId: project.id,
      userId: user?.id ?? "",
      status: spec.status,
      vmState: { ACTIVE: "active", BUILD: "building", ERROR: "error", SHUTOFF: "stopped", SHELVED: "shelved", SHELVED_OFFLOADED: "shelved_offloaded" }[spec.status],
      taskState: spec.status === "BUILD" ? "spawning" : null,
      powerState: spec.status === "ACTIVE" ? 1 : spec.status === "SHUTOFF" || spec.status === "SHELVED" ? 4 : 0,
      imageId: image.id,
      flavorId: flavor.id,
      previousFlavorId: null,
      metadata: { ...spec.metadata },
      tags: [...spec.tags].sort(),
      created,
      updated: created,
      launchedAt: active ? created : null,
      reservationId: `r-${this.rng.token(8)}`,
      adminPass: this.rng.password(12),
      keyName: null,
      description: null,
      availabilityZone: "nova",
      addresses: [],
      personality: [],
      accessIPv4: "",
      accessIPv6: "",
      locked: false,
      fault: spec.status === "ERROR" ? { code: 500, message: "seeded in ERROR", created } : null,
      stuck: spec.status === "BUILD",
    };
    const host = spec.status === "ERROR" ? undefined : place(this.capacity, this, flavor, 1)?.[0];
    if (host !== undefined) server.host = host;
    this.servers.set(server.id, server);
    const snapshot = this.serverSnapshots().find((s) => s.id === server.id);
    if (snapshot === undefined) throw new Error("seeded server vanished");
    return snapshot;
  }

  /** Changes the capacity (null clears a part, an absent part stays); servers already placed keep their hosts. */
  setCapacity(body: CapacityBody): Capacity {
    const parsed = CapacityBodySchema.parse(body);
    if (parsed.flavors !== undefined) this.capacity.flavors = parsed.flavors ?? undefined;
    if (parsed.hosts !== undefined) this.capacity.hosts = parsed.hosts ?? undefined;
    return { ...this.capacity };
  }

  setQuota(projectName: string, quota: Partial<Quotas>): Quotas {
    const project = this.projectByName(projectName);
    if (project === undefined) throw new RangeError(`no project ${projectName}`);
    const merged = { ...this.quotaOf(project.id), ...quota };
    this.quotas.set(project.id, merged);
    return merged;
  }

  // ---- HTTP -------------------------------------------------------------------------------------

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    let path = url.pathname;
    if (this.mountPath !== "" && path.startsWith(this.mountPath)) path = path.slice(this.mountPath.length);
    if (path === "") path = "/";
    const origin = url.origin + this.mountPath;
    const roots: ServiceRoots = { origin, identity: `${origin}/identity`, compute: `${origin}/compute`, image: `${origin}/image` };
    try {
      if (path === "/_fake" || path.startsWith("/_fake/")) return await this.#control(request, path.slice("/_fake".length), url);
      const match = /^\/(identity|compute|image)(\/.*)?$/.exec(path);
      if (match === null) return json(404, { error: `no service at ${path}; try /identity, /compute, /image or /_fake` });
      const service = match[1] as ServiceName;
      const sub = match[2] ?? "/";
      this.settle();
      this.#count(service, request.method, sub);
      const injected = await this.#requestFaults(service, request.method, sub);
      if (injected !== undefined) return injected;
      const ctx: RequestContext = { request, url, method: request.method, path: sub, roots };
      if (service === "identity") return await handleIdentity(this, ctx);
      if (service === "compute") return await handleCompute(this, ctx);
      return await handleImage(this, ctx);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return json(500, { computeFault: { code: 500, message: `fake cloud internal error: ${message}` } });
    }
  }

  #count(service: ServiceName, method: string, path: string): void {
    this.#stats.total++;
    this.#stats.byService[service] = (this.#stats.byService[service] ?? 0) + 1;
    const route = `${method} /${service}${routeTemplate(path)}`;
    this.#stats.byRoute[route] = (this.#stats.byRoute[route] ?? 0) + 1;
  }

  async #requestFaults(service: ServiceName, method: string, path: string): Promise<Response | undefined> {
    if (this.#pendingRevocation !== null) {
      if (this.#pendingRevocation <= 1) this.revokeTokens();
      else this.#pendingRevocation--;
    }
    for (const fault of this.#faults) {
      if (isExhausted(fault) || !matchesRequest(fault.spec, service, method, path)) continue;
      const spec = fault.spec;
      if (spec.kind === "slow") {
        fault.fired++;
        await sleep(spec.delayMs);
      } else if (spec.kind === "randomErrors") {
        const random = this.#faultRandom.get(fault.id) ?? this.rng;
        if (random.next() >= spec.rate) continue;
        fault.fired++;
        const status = spec.statuses[random.int(spec.statuses.length)] ?? 500;
        const headers: Record<string, string> = status === 413 || status === 429 ? { "Retry-After": String(spec.retryAfterSeconds) } : {};
        const message = status === 413 || status === 429 ? "This request was rate-limited." : "Injected failure (fake cloud).";
        if (service === "compute") return novaError(status, message, headers);
        if (service === "image") return glanceError(status, message, headers);
        return keystoneError(status, message, headers);
      }
    }
    return undefined;
  }

  async #control(request: Request, path: string, url: URL): Promise<Response> {
    const method = request.method;
    const body = method === "POST" || method === "PUT" ? await readJson(request) : undefined;
    if (body === INVALID_JSON) return json(400, { error: "body is not JSON" });
    const bad = (error: unknown) => json(400, { error: error instanceof z.ZodError ? z.prettifyError(error) : error instanceof Error ? error.message : String(error) });
    try {
      if (path === "" || path === "/") {
        return json(200, {
          endpoints: [
            "GET /_fake/state",
            "GET /_fake/servers[?project=demo]",
            "POST /_fake/servers",
            "GET|POST /_fake/images",
            "PUT /_fake/images/{id} (rename)",
            "GET|POST /_fake/clock",
            "GET|POST|DELETE /_fake/faults",
            "DELETE /_fake/faults/{id}",
            "POST /_fake/tokens/revoke",
            "PUT /_fake/quotas/{project}",
            "GET|PUT /_fake/capacity",
            "GET|DELETE /_fake/stats",
            "POST /_fake/reset",
          ],
        });
      }
      this.settle();
      if (path === "/state" && method === "GET") {
        return json(200, {
          now: new Date(this.now()).toISOString(),
          clock: this.clock.mode,
          options: this.options,
          servers: this.serverSnapshots(),
          images: this.imageSnapshots(),
          faults: this.listFaults(),
          capacity: this.capacity,
          projects: [...this.projects.values()].map((p) => ({ id: p.id, name: p.name, quota: this.quotaOf(p.id), usage: this.usage(p.id) })),
          stats: this.stats(),
        });
      }
      if (path === "/servers" && method === "GET") return json(200, { servers: this.serverSnapshots(url.searchParams.get("project") ?? undefined) });
      if (path === "/servers" && method === "POST") return json(201, { server: this.seedServer(body as SeedServerInput) });
      if (path === "/images" && method === "GET") return json(200, { images: this.imageSnapshots() });
      if (path === "/images" && method === "POST") return json(201, { image: this.addImage(body) });
      const imageMatch = /^\/images\/([^/]+)$/.exec(path);
      if (imageMatch !== null && method === "PUT") {
        const image = this.renameImage(decodeURIComponent(imageMatch[1] ?? ""), body);
        return image === undefined ? json(404, { error: "no such image" }) : json(200, { image });
      }
      if (path === "/clock" && method === "GET") return json(200, { now: new Date(this.now()).toISOString(), mode: this.clock.mode });
      if (path === "/clock" && method === "POST") {
        const parsed = ClockBodySchema.parse(body);
        const now = "advanceMs" in parsed ? this.advance(parsed.advanceMs) : this.setTime(parsed.set);
        return json(200, { now: new Date(now).toISOString(), mode: this.clock.mode });
      }
      if (path === "/faults" && method === "GET") return json(200, { faults: this.listFaults() });
      if (path === "/faults" && method === "POST") return json(201, { id: this.addFault(body as FaultSpecInput) });
      if (path === "/faults" && method === "DELETE") {
        this.clearFaults();
        return new Response(null, { status: 204 });
      }
      const faultMatch = /^\/faults\/([^/]+)$/.exec(path);
      if (faultMatch !== null && method === "DELETE") {
        return this.removeFault(decodeURIComponent(faultMatch[1] ?? "")) ? new Response(null, { status: 204 }) : json(404, { error: "no such fault" });
      }
      if (path === "/tokens/revoke" && method === "POST") return json(200, { revoked: this.revokeTokens() });
      const quotaMatch = /^\/quotas\/([^/]+)$/.exec(path);
      if (quotaMatch !== null && method === "PUT") {
        const quota = z.record(z.string(), z.number().int()).parse(isRecord(body) && isRecord(body.quota_set) ? body.quota_set : body);
        return json(200, { quota_set: this.setQuota(decodeURIComponent(quotaMatch[1] ?? ""), quota as Partial<Quotas>) });
      }
      if (path === "/capacity" && method === "GET") return json(200, this.capacity);
      if (path === "/capacity" && method === "PUT") return json(200, this.setCapacity(body as CapacityBody));
      if (path === "/stats" && method === "GET") return json(200, this.stats());
      if (path === "/stats" && method === "DELETE") {
        this.resetStats();
        return new Response(null, { status: 204 });
      }
      if (path === "/reset" && method === "POST") {
        this.reset(isRecord(body) ? (body as FakeCloudOptions) : {});
        return json(200, { now: new Date(this.now()).toISOString() });
      }
      return json(404, { error: `no control endpoint ${method} /_fake${path}` });
    } catch (error) {
      return bad(error);
    }
  }
}
