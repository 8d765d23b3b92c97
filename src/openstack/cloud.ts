// The narrow facade the reconciler uses to act on a cloud; implemented by the OpenStack client.
import type { ResourceRef } from "../config/group.ts";
import type { AbsoluteLimits } from "../core/scaling/limits.ts";
import type { ObservedImage, ObservedServer } from "../core/model/types.ts";

export interface ResolvedImage {
  id: string;
  name: string;
}

export interface ResolvedFlavor {
  id: string;
  name: string;
  vcpus: number;
  ramMB: number;
}

export type NetworkSpec = "auto" | "none" | Array<{ uuid?: string; port?: string; fixedIp?: string }>;

export interface BootSpec {
  /** Server name; with count > 1 Nova appends -1, -2, ... */
  name: string;
  imageId: string;
  flavorId: string;
  metadata: Record<string, string>;
  networks: NetworkSpec;
  keyName?: string;
  /** Plain text; the client base64-encodes it. */
  userData?: string;
  securityGroups?: string[];
  availabilityZone?: string;
  /** min_count = max_count = count: one request boots them all. */
  count: number;
  /** Nova server tags and description saying who manages the server; sent where the microversion allows (tags 2.52, description 2.19). */
  labels?: { tags: string[]; description: string };
}

export interface BootResult {
  /** Ids the response named (Nova names only the first of a multi-create). */
  serverIds: string[];
  reservationId?: string;
}

/** `addresses: true` fills ObservedServer.addresses (the members view); the tick lists without them. */
export interface ListServersOptions {
  addresses?: boolean;
}

/** Absolute limits (GET /limits): a core type (core/limits.ts turns them into headroom). */
export type { AbsoluteLimits };

/** The server actions parking uses. */
export type ServerAction = "shelve" | "shelveOffload" | "unshelve" | "stop" | "start";

/** What a cloud object has learnt so far, read without a request. */
export interface CloudHealth {
  /** When the cached token stops being used (ISO), when one is cached. */
  tokenExpiresAt?: string;
  /** The compute microversion calls are made at ("legacy": the book's v1.1/v2, none), when discovery ran. */
  computeMicroversion?: string;
  /** Why discovery fell back to plain 2.1, when it did. */
  discoveryFallback?: string;
  /** Images through Glance v2 or Nova's proxy, when it was looked up. */
  images?: "glance-v2" | "nova-proxy";
  /** The compute and image endpoints the cached catalog (or an override) gives this cloud-region, when a token is cached. */
  computeEndpoint?: string;
  imageEndpoint?: string;
}

export interface ComputeCloud {
  /** Every server of the project (/servers/detail, all pages). Throws when any page fails. */
  listServers(options?: ListServersOptions): Promise<ObservedServer[]>;
  resolveImage(ref: ResourceRef): Promise<ResolvedImage>;
  resolveFlavor(ref: ResourceRef): Promise<ResolvedFlavor>;
  boot(spec: BootSpec): Promise<BootResult>;
  deleteServer(id: string): Promise<void>;
  /** A parking action on a server: shelve, shelveOffload, unshelve (body null), stop (os-stop), start (os-start). */
  serverAction(id: string, action: ServerAction): Promise<void>;
  /** Merges `metadata` into the server's metadata (POST /servers/{id}/metadata): the park mark. */
  mergeServerMetadata(id: string, metadata: Record<string, string>): Promise<void>;
  /** Removes one metadata key; a key (or server) already gone is fine. */
  deleteServerMetadataItem(id: string, key: string): Promise<void>;
  absoluteLimits(): Promise<AbsoluteLimits>;
  /**
   * The key pair named exactly `name` (GET /os-keypairs/{name}); a config error (`nameNotFound`, near names
   * in the message) when there is none. Optional: a cloud without it cannot have its key pairs checked.
   */
  findKeyPair?(name: string): Promise<{ name: string }>;
  /** createImage on a server; returns the new image id (body from 2.45, Location header before). */
  createImage(serverId: string, name: string, metadata: Record<string, string>): Promise<string>;
  /** Images whose properties include all of `properties` (Glance v2 filter, or client-side). */
  listImages(properties: Record<string, string>): Promise<ObservedImage[]>;
  getImage(id: string): Promise<ObservedImage | null>;
  deleteImage(id: string): Promise<void>;
  /**
   * Nova's fault of one server (GET /servers/{id}), null when it has none or is gone. Real Nova's
   * `/servers/detail` looks faults up in the API's default cell only, so a server the scheduler could
   * not place (NoValidHost, buried in cell0) is listed in ERROR without one. Optional: doubles without it
   * keep what the listing said.
   */
  serverFault?(id: string): Promise<ObservedServer["fault"] | null>;
  /** The X-OpenStack-Request-Id sent on every call of this cloud (one per tick): finds the tick in the cloud's logs. */
  readonly requestId?: string;
  /** Why compute version discovery fell back to plain 2.1 (no microversions) on this cloud's calls so far; undefined when it did not or was not tried. */
  discoveryFallback?(): string | undefined;
  /** What this cloud object knows without asking (token expiry, discovery): GET /v1/clouds and /metrics. */
  health?(): CloudHealth;
  /** Masks this cloud's secrets (password, secret, tokens) out of a text: the last gate before logs, storage and answers. */
  redact?(text: string): string;
}
