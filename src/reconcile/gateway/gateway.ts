// The cloud as a Durable Object sees it: an RpcTarget living in the calling Worker, so credentials, the
// authenticated session and the per-tick name resolutions stay in one place and never reach DO storage.
import { RpcTarget } from "cloudflare:workers";
import type { ResourceRef } from "../../config/group.ts";
import { grantRequests, type BudgetGrant } from "../../core/scaling/budget.ts";
import type { ObservedImage, ObservedServer } from "../../core/model/types.ts";
import type { ReferenceAnswer, ReferenceQuery } from "../../core/model/references.ts";
import type { AbsoluteLimits, BootResult, BootSpec, CloudHealth, ComputeCloud, ListServersOptions, ResolvedFlavor, ResolvedImage, ServerAction } from "../../openstack/cloud.ts";
import { NOT_SENT_KINDS } from "../../openstack/http.ts";
import type { TickBudget } from "./budget.ts";
import type { ErrorCategory, ErrorInfo } from "../shared/service.ts";

/** Errors do not keep their fields across RPC, so every call answers with data. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

const CATEGORIES: readonly ErrorCategory[] = ["config", "quota", "auth", "notFound", "transient", "cloud", "internal"];

/** Turns anything thrown (the client's OpenStackError, a TypeError from fetch, ...) into ErrorInfo. */
export function toErrorInfo(operation: string, error: unknown): ErrorInfo {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    category?: unknown;
    status?: unknown;
    requestId?: unknown;
    message?: unknown;
    kind?: unknown;
  };
  const message = typeof e.message === "string" && e.message !== "" ? e.message : String(error);
  const status = typeof e.status === "number" && e.status > 0 ? e.status : undefined;
  let category: ErrorCategory;
  if (typeof e.category === "string" && (CATEGORIES as readonly string[]).includes(e.category)) category = e.category as ErrorCategory;
  else if (status !== undefined) category = status >= 500 || status === 429 || status === 409 ? "transient" : "cloud";
  else if (error instanceof TypeError) category = "transient"; // fetch's network failures
  else category = "internal";
  const info: ErrorInfo = { operation, category, message };
  if (status !== undefined) info.status = status;
  if (typeof e.requestId === "string" && e.requestId !== "") info.requestId = e.requestId;
  if (typeof e.kind === "string" && NOT_SENT_KINDS.includes(e.kind)) info.notSent = true;
  return info;
}

/** What a group asks the gateway to hold before it acts (see core/budget.ts). */
export interface ReserveRequest {
  deletes: number;
  boots: number;
  /** The refs booting will resolve (their reads are held too unless this tick already made them). */
  image?: ResourceRef;
  flavor?: ResourceRef;
}

/**
 * What booting needs, read by the gateway within reserve() when the grant includes boots: the image and
 * the flavor, and /limits once both resolved (as the pipeline asks for them itself without a budget).
 */
export interface BootReads {
  image: Outcome<ResolvedImage>;
  flavor: Outcome<ResolvedFlavor>;
  /** Absent when the image or the flavor did not resolve (nothing will boot: quota is not read for it). */
  limits?: Outcome<AbsoluteLimits>;
}

/**
 * A grant with the id to release it by when the group is done. `boot` carries the reads booting needs,
 * so a booting group's Durable Object makes one call back into the cron invocation where it made four
 * (reserve, image, flavor, limits): each call crosses RPC, and the cron invocation pays for every one.
 */
export type Reservation = BudgetGrant & { id: number; short?: "subrequests" | "deadline"; boot?: BootReads };

/** The answer of a call the budget kept from starting: the cloud was not asked. */
function notSent(operation: string, budget: TickBudget): Outcome<never> {
  const why = budget.expired() ? "the tick's time budget is spent" : `the tick's subrequest budget (${budget.limit}) is spent`;
  return { ok: false, error: { operation, category: "transient", message: `not sent: ${why}`, notSent: true } };
}

/**
 * Why a request the budget kept back was not sent: "deadline" when time ran out, else "subrequests".
 * Read from the message, which both refusers (notSent above and the transport's) word with "time budget".
 */
export function notSentReason(error: ErrorInfo): "deadline" | "subrequests" {
  return error.message.includes("time budget") ? "deadline" : "subrequests";
}

function refLabel(ref: ResourceRef): string {
  return typeof ref === "string" ? `'${ref}'` : `id ${ref.id}`;
}

async function attempt<T>(operation: string, run: () => Promise<T>, cloud?: Pick<ComputeCloud, "requestId" | "redact">): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    const info = toErrorInfo(operation, error);
    // The last gate before DO storage, logs and API answers: whatever produced the text, the cloud's secrets go.
    if (cloud?.redact !== undefined) info.message = cloud.redact(info.message);
    if (cloud?.requestId !== undefined) info.tickRequestId = cloud.requestId;
    return { ok: false, error: info };
  }
}

/** The answer for `ref` from `cache`, asking `resolve` only the first time (concurrent askers share it). */
function remembered<T>(cache: Map<string, Promise<T>>, ref: ResourceRef, resolve: () => Promise<T>): Promise<T> {
  const key = JSON.stringify(ref);
  let found = cache.get(key);
  if (found === undefined) {
    found = resolve();
    cache.set(key, found);
  }
  return found;
}

/**
 * One per tick (or per API request). Image and flavor names are resolved at most once per gateway,
 * whichever group asks first; the listing is taken once by the tick and handed over with the request.
 */
export class CloudGateway extends RpcTarget {
  readonly #cloud: ComputeCloud;
  readonly #images = new Map<string, Promise<Outcome<ResolvedImage>>>();
  readonly #flavors = new Map<string, Promise<Outcome<ResolvedFlavor>>>();
  /** A rules write's reference checks, by kind and ref: asked once per gateway (one API request). */
  readonly #lookups = new Map<string, Promise<ReferenceAnswer>>();
  /** Flavors by id, so a boot can be charged against the quota read once per gateway. */
  readonly #flavorsById = new Map<string, ResolvedFlavor>();
  #limits: Promise<Outcome<AbsoluteLimits>> | undefined;
  #limitsRead: { at: string; value: AbsoluteLimits } | undefined;
  /** What boots through this gateway have taken since /limits was read (or may have: a lost answer). */
  readonly #bootedSinceLimits = { instances: 0, cores: 0, ramMB: 0 };
  readonly #budget: TickBudget | undefined;
  readonly #reservations = new Map<number, number>();
  /** Shared reads some grant has held requests for this tick (a later grant does not pay for them again). */
  readonly #heldReads = new Set<string>();
  #nextReservation = 1;
  /** Time elapsed in the tick (ms): the budget's, or (no budget: an API request) since this gateway was made. */
  readonly #elapsedMs: () => number;

  /** Without a budget every reservation is granted in full (the transport may still cap requests). */
  constructor(cloud: ComputeCloud, budget?: TickBudget, clock: () => number = () => Date.now()) {
    super();
    this.#cloud = cloud;
    this.#budget = budget;
    const start = clock();
    this.#elapsedMs = budget !== undefined ? () => budget.elapsedMs() : () => Math.max(0, clock() - start);
  }

  /**
   * Why compute version discovery fell back to plain 2.1 on this gateway's calls (null: it did not, or
   * no call needed it yet). Sends nothing; masked like every message that leaves the gateway.
   */
  async discoveryFallback(): Promise<Outcome<string | null>> {
    const reason = this.#cloud.discoveryFallback?.();
    return { ok: true, value: reason === undefined ? null : (this.#cloud.redact?.(reason) ?? reason) };
  }

  /**
   * What the tick reports per cloud-region (GET /v1/clouds, /metrics): the token's expiry and discovery as
   * the cloud object knows them, and /limits as this gateway last read it. Sends nothing; not an RPC method.
   */
  cloudHealth(): CloudHealth & { limits?: { at: string; value: AbsoluteLimits } } {
    const health = this.#cloud.health?.() ?? {};
    return { ...health, ...(this.#limitsRead === undefined ? {} : { limits: this.#limitsRead }) };
  }

  /** The X-OpenStack-Request-Id every call through this gateway carries (one per tick), when the cloud sends one. */
  get tickRequestId(): string | undefined {
    return this.#cloud.requestId;
  }

  #attempt<T>(operation: string, run: () => Promise<T>): Promise<Outcome<T>> {
    return attempt(operation, run, this.#cloud);
  }

  /**
   * Holds the requests a group's actions need, or as many as the budget has left (deletes first, then
   * boots with their reads); what is not granted the group defers to the next tick. Release when done.
   */
  async reserve(ask: ReserveRequest): Promise<Outcome<Reservation>> {
    const id = this.#nextReservation++;
    const budget = this.#budget;
    if (budget === undefined) {
      const granted: Reservation = { id, deletes: ask.deletes, boots: ask.boots, cost: 0 };
      if (ask.boots > 0 && ask.image !== undefined && ask.flavor !== undefined) granted.boot = await this.#bootReads(ask.image, ask.flavor);
      return { ok: true, value: granted };
    }
    // The shared reads booting needs, unless this tick made them or a grant already holds them.
    const readKeys: string[] = [];
    if (ask.boots > 0) {
      if (ask.image !== undefined && !this.#images.has(JSON.stringify(ask.image))) readKeys.push(`image:${JSON.stringify(ask.image)}`);
      if (ask.flavor !== undefined && !this.#flavors.has(JSON.stringify(ask.flavor))) readKeys.push(`flavor:${JSON.stringify(ask.flavor)}`);
      if (this.#limits === undefined) readKeys.push("limits");
    }
    const unheld = readKeys.filter((key) => !this.#heldReads.has(key));
    const grant = grantRequests(budget.available(), { deletes: ask.deletes, boots: ask.boots, reads: unheld.length });
    if (grant.boots > 0) for (const key of unheld) this.#heldReads.add(key);
    budget.hold(grant.cost);
    this.#reservations.set(id, grant.cost);
    const value: Reservation = { id, ...grant };
    if (grant.deletes < ask.deletes || grant.boots < ask.boots) value.short = budget.expired() ? "deadline" : "subrequests";
    if (grant.boots > 0 && ask.image !== undefined && ask.flavor !== undefined) value.boot = await this.#bootReads(ask.image, ask.flavor);
    return { ok: true, value };
  }

  /** The reads a reservation's boots need (the same calls, caches and budget as when a group asks for each itself). */
  async #bootReads(image: ResourceRef, flavor: ResourceRef): Promise<BootReads> {
    const [i, f] = await Promise.all([this.resolveImage(image), this.resolveFlavor(flavor)]);
    return i.ok && f.ok ? { image: i, flavor: f, limits: await this.absoluteLimits() } : { image: i, flavor: f };
  }

  /** Gives back what a reservation held (its requests that went out are counted as spent by now). */
  async release(id: number): Promise<void> {
    const held = this.#reservations.get(id);
    if (held === undefined) return;
    this.#reservations.delete(id);
    this.#budget?.release(held);
  }

  /** Calls nobody reserved for (a re-listing, snapshot calls) start only while the budget has requests to spare. */
  #admit(operation: string): Outcome<never> | undefined {
    const budget = this.#budget;
    return budget !== undefined && budget.available() <= 0 ? notSent(operation, budget) : undefined;
  }

  async listServers(options?: ListServersOptions): Promise<Outcome<ObservedServer[]>> {
    return this.#admit("list servers") ?? this.#attempt("list servers", () => this.#cloud.listServers(options));
  }

  resolveImage(ref: ResourceRef): Promise<Outcome<ResolvedImage>> {
    return remembered(this.#images, ref, () => this.#attempt(`resolve image ${refLabel(ref)}`, () => this.#cloud.resolveImage(ref)));
  }

  resolveFlavor(ref: ResourceRef): Promise<Outcome<ResolvedFlavor>> {
    return remembered(this.#flavors, ref, async () => {
      const outcome = await this.#attempt(`resolve flavor ${refLabel(ref)}`, () => this.#cloud.resolveFlavor(ref));
      if (outcome.ok) this.#flavorsById.set(outcome.value.id, outcome.value);
      return outcome;
    });
  }

  /**
   * Whether what a rules write names exists and can be used (core/model/references.ts turns the answers
   * into warnings). Asked once per kind and ref on this gateway; the answer keeps the client's error
   * kind (nameNotFound, ambiguousName, notUsable), which a boot's ErrorInfo does not need.
   */
  lookUp(query: ReferenceQuery): Promise<ReferenceAnswer> {
    return remembered(this.#lookups, { id: `${query.kind}:${JSON.stringify(query.ref)}` }, async () => {
      const cloud = this.#cloud;
      const admitted = this.#admit(`look up ${query.kind}`);
      if (admitted !== undefined && !admitted.ok) return { ok: false, category: admitted.error.category, message: admitted.error.message };
      try {
        if (query.kind === "image") await cloud.resolveImage(query.ref);
        else if (query.kind === "flavor") await cloud.resolveFlavor(query.ref);
        else if (cloud.findKeyPair === undefined) return { ok: true };
        else await cloud.findKeyPair(typeof query.ref === "string" ? query.ref : query.ref.id);
        return { ok: true };
      } catch (error) {
        const info = toErrorInfo(`look up ${query.kind}`, error);
        const { kind, detail } = (typeof error === "object" && error !== null ? error : {}) as { kind?: unknown; detail?: unknown };
        // The cloud's own words (OpenStackError.detail) without the method and URL before them.
        const message = typeof detail === "string" && detail !== "" ? detail : info.message;
        return {
          ok: false,
          category: info.category,
          message: cloud.redact?.(message) ?? message,
          ...(info.status === undefined ? {} : { status: info.status }),
          ...(typeof kind === "string" ? { kind } : {}),
        };
      }
    });
  }

  /**
   * /limits is read once per gateway (one tick), not once per group that boots: every later caller gets
   * that reading with the usage of this gateway's own boots added, so groups booting in the same tick
   * share the headroom instead of each seeing all of it. A failed read is remembered for the rest of
   * the gateway's life (one tick): a cloud that cannot answer /limits is not asked again for every group.
   */
  async absoluteLimits(): Promise<Outcome<AbsoluteLimits>> {
    this.#limits ??= this.#attempt("read limits", () => this.#cloud.absoluteLimits()).then((read) => {
      if (read.ok) this.#limitsRead = { at: new Date().toISOString(), value: read.value };
      return read;
    });
    const read = await this.#limits;
    if (!read.ok) return read;
    const booted = this.#bootedSinceLimits;
    return {
      ok: true,
      value: {
        ...read.value,
        totalInstancesUsed: read.value.totalInstancesUsed + booted.instances,
        totalCoresUsed: read.value.totalCoresUsed + booted.cores,
        totalRAMUsed: read.value.totalRAMUsed + booted.ramMB,
      },
    };
  }

  /**
   * Never retried here: a lost answer is settled by the next listing (boot intent marker). The answer
   * carries `sentAfterMs`, the time elapsed in the tick when the request went out (read before sending),
   * so the group's object can date a lost boot on the tick's clock: the tick's `now` plus this.
   */
  async boot(spec: BootSpec): Promise<Outcome<BootResult> & { sentAfterMs: number }> {
    const sentAfterMs = this.#elapsedMs();
    const outcome = await this.#attempt(`boot ${spec.count} x ${spec.name}`, () => this.#cloud.boot(spec));
    // A refused boot (config, quota) created nothing; an accepted or lost one may hold quota now.
    if (outcome.ok || outcome.error.category === "transient") this.#chargeBoot(spec);
    return { ...outcome, sentAfterMs };
  }

  #chargeBoot(spec: BootSpec): void {
    const flavor = this.#flavorsById.get(spec.flavorId);
    this.#bootedSinceLimits.instances += spec.count;
    this.#bootedSinceLimits.cores += spec.count * (flavor?.vcpus ?? 0);
    this.#bootedSinceLimits.ramMB += spec.count * (flavor?.ramMB ?? 0);
  }

  deleteServer(id: string): Promise<Outcome<null>> {
    return this.#attempt(`delete server ${id}`, async () => {
      await this.#cloud.deleteServer(id);
      return null;
    });
  }

  /**
   * A parking action. An unshelve from SHELVED_OFFLOADED takes cores and RAM again: `charge` (the size
   * the plan checked against /limits) is added to this gateway's usage, so later groups see less headroom.
   */
  async serverAction(id: string, action: ServerAction, charge?: { vcpus: number; ramMB: number }): Promise<Outcome<null>> {
    const outcome = await this.#attempt(`${action} server ${id}`, async () => {
      await this.#cloud.serverAction(id, action);
      return null;
    });
    if (charge !== undefined && (outcome.ok || outcome.error.category === "transient")) {
      this.#bootedSinceLimits.cores += charge.vcpus;
      this.#bootedSinceLimits.ramMB += charge.ramMB;
    }
    return outcome;
  }

  mergeServerMetadata(id: string, metadata: Record<string, string>): Promise<Outcome<null>> {
    return this.#attempt(`set metadata of server ${id}`, async () => {
      await this.#cloud.mergeServerMetadata(id, metadata);
      return null;
    });
  }

  deleteServerMetadataItem(id: string, key: string): Promise<Outcome<null>> {
    return this.#attempt(`remove metadata ${key} of server ${id}`, async () => {
      await this.#cloud.deleteServerMetadataItem(id, key);
      return null;
    });
  }

  /** Nova's fault of one server the listing showed in ERROR without one (null: none, gone, or a cloud double without the call). */
  async serverFault(id: string): Promise<Outcome<ObservedServer["fault"] | null>> {
    const cloud = this.#cloud;
    if (cloud.serverFault === undefined) return { ok: true, value: null };
    const operation = `read the fault of server ${id}`;
    return this.#admit(operation) ?? this.#attempt(operation, async () => (await cloud.serverFault?.(id)) ?? null);
  }

  async createImage(serverId: string, name: string, metadata: Record<string, string>): Promise<Outcome<string>> {
    const operation = `create image of server ${serverId}`;
    return this.#admit(operation) ?? this.#attempt(operation, () => this.#cloud.createImage(serverId, name, metadata));
  }

  async listImages(properties: Record<string, string>): Promise<Outcome<ObservedImage[]>> {
    return this.#admit("list images") ?? this.#attempt("list images", () => this.#cloud.listImages(properties));
  }

  async getImage(id: string): Promise<Outcome<ObservedImage | null>> {
    return this.#admit(`get image ${id}`) ?? this.#attempt(`get image ${id}`, () => this.#cloud.getImage(id));
  }

  async deleteImage(id: string): Promise<Outcome<null>> {
    return this.#admit(`delete image ${id}`) ?? this.#attempt(`delete image ${id}`, async () => {
      await this.#cloud.deleteImage(id);
      return null;
    });
  }
}

/** The methods a Durable Object calls on the gateway it was handed (an RPC stub of CloudGateway). */
export type CloudPort = Pick<
  CloudGateway,
  | "listServers"
  | "resolveImage"
  | "resolveFlavor"
  | "absoluteLimits"
  | "boot"
  | "deleteServer"
  | "serverAction"
  | "mergeServerMetadata"
  | "deleteServerMetadataItem"
  | "serverFault"
  | "createImage"
  | "listImages"
  | "getImage"
  | "deleteImage"
  | "reserve"
  | "release"
  | "discoveryFallback"
  | "lookUp"
>;

const PORT_METHODS = [
  "listServers",
  "resolveImage",
  "resolveFlavor",
  "absoluteLimits",
  "boot",
  "deleteServer",
  "serverAction",
  "mergeServerMetadata",
  "deleteServerMetadataItem",
  "serverFault",
  "createImage",
  "listImages",
  "getImage",
  "deleteImage",
  "reserve",
  "release",
  "discoveryFallback",
  "lookUp",
] as const satisfies ReadonlyArray<keyof CloudPort>;

/**
 * The gateway as the Durable Object should hold it: a call that fails at the RPC layer (the calling
 * invocation ended, the connection dropped) answers an error Outcome like any cloud failure, so a
 * reconcile always finishes and records what it sent.
 */
export function resilientPort(port: CloudPort): CloudPort {
  const wrapped: Partial<Record<keyof CloudPort, unknown>> = {};
  for (const method of PORT_METHODS) {
    wrapped[method] = async (...args: unknown[]) => {
      try {
        return await (port[method] as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (error) {
        // Whether the call reached the cloud is unknown: transient, so a boot counts as "answer lost".
        return { ok: false, error: { ...toErrorInfo(method, error), category: "transient" } };
      }
    };
  }
  return wrapped as CloudPort;
}
