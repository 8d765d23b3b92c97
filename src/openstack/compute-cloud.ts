// The ComputeCloud facade the reconciler uses, on top of the Nova and Glance clients; one session for a whole tick.
import { z } from "zod";
import type { OpenStackSettings } from "../config/env.ts";
import type { ResourceRef } from "../config/group.ts";
import type { ObservedImage, ObservedServer } from "../core/model/types.ts";
import type { AbsoluteLimits, BootResult, BootSpec, ComputeCloud, ListServersOptions, ResolvedFlavor, ResolvedImage, ServerAction } from "./cloud.ts";
import { createNovaClient, type NovaClient } from "./compute/client.ts";
import type { NovaImage, Server, ServerSummary } from "./compute/schemas.ts";
import { formatMicroversion, type MicroversionRequest } from "./compute/versions.ts";
import { clip, OpenStackError } from "./errors.ts";
import { createGlanceClient, type GlanceClient, type GlanceImage, imageProperties } from "./glance.ts";
import type { RequestStats, TransportOptions } from "./http.ts";
import { type Credentials, credentialsFromSettings } from "./keystone.ts";
import { Session, type TokenCache } from "./session.ts";

export interface ComputeCloudOptions extends TransportOptions {
  /** Service type -> URL; merged over OS_ENDPOINT_OVERRIDES. */
  endpointOverrides?: Record<string, string>;
  /** Share one across clouds (e.g. in module scope) so a new tick reuses a still-valid token. */
  tokenCache?: TokenCache;
  /** Default "auto": the highest microversion both sides support. */
  microversion?: MicroversionRequest;
  /** Whose token (the named cloud): two clouds never share a cached token (Session's tokenScope). */
  tokenScope?: string;
  /** Instead of the OS_* credentials (e.g. a Keystone token). */
  credentials?: Credentials;
  /** How long resolved image/flavor names are remembered by this cloud object (ms). Default 60 s. */
  resolveCacheMs?: number;
}

/** The facade plus what tests, benchmarks and the real-cloud tier need to look at. */
export interface OpenStackComputeCloud extends ComputeCloud {
  readonly session: Session;
  readonly requestId: string;
  redact(text: string): string;
  readonly nova: NovaClient;
  /** Glance v2, when the catalog (or an override) has a v2-capable image service; else images go through Nova. */
  glance(): Promise<GlanceClient | undefined>;
  /** Image metadata the way this cloud keeps it: Glance v2 properties (JSON patch), else Nova's proxy. */
  imageMetadata(): Promise<ImageMetadataApi>;
  /** Requests made so far (auth, discovery, retries included): "API calls per tick". */
  stats(): RequestStats;
}

/** The six metadata calls the book teaches, for images; Glance's and Nova's proxy's clients both have them. */
export type ImageMetadataApi = Pick<GlanceClient, "metadata" | "metadataItem" | "setMetadata" | "mergeMetadata" | "setMetadataItem" | "deleteMetadataItem">;

const OverridesSchema = z.record(z.string(), z.url());

export function parseEndpointOverrides(text: string | undefined): Record<string, string> {
  if (text === undefined) return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw configError("OS_ENDPOINT_OVERRIDES is not JSON (expected e.g. {\"compute\": \"https://nova.example/v2.1\"})");
  }
  const parsed = OverridesSchema.safeParse(json);
  if (!parsed.success) throw configError("OS_ENDPOINT_OVERRIDES must map service types to URLs, e.g. {\"compute\": \"https://nova.example/v2.1\"}");
  return parsed.data;
}

export function createComputeCloud(settings: OpenStackSettings, options: ComputeCloudOptions = {}): OpenStackComputeCloud {
  const session = new Session({
    ...options,
    authUrl: settings.OS_AUTH_URL,
    credentials: options.credentials ?? credentialsFromSettings(settings),
    region: settings.OS_REGION_NAME,
    interface: settings.OS_INTERFACE,
    endpointOverrides: { ...parseEndpointOverrides(settings.OS_ENDPOINT_OVERRIDES), ...options.endpointOverrides },
    ...(options.tokenCache === undefined ? {} : { tokenCache: options.tokenCache }),
  });
  const nova = createNovaClient(session, options.microversion ?? "auto");
  const clock = session.transport.clock;
  const resolveCacheMs = options.resolveCacheMs ?? 60_000;
  const resolved = new Map<string, { at: number; value: Promise<ResolvedImage | ResolvedFlavor> }>();

  let glanceClient: Promise<GlanceClient | undefined> | undefined;
  let imagesVia: "glance-v2" | "nova-proxy" | undefined;
  function glance(): Promise<GlanceClient | undefined> {
    glanceClient ??= session.optionalEndpoint("image").then((url) => {
      // The book's catalog names Glance v1 (…:9292/v1), which this client does not speak: use Nova's proxy there.
      const client = url === undefined || /\/v1(\.\d+)?$/.test(url) ? undefined : createGlanceClient(session);
      imagesVia = client === undefined ? "nova-proxy" : "glance-v2";
      return client;
    });
    glanceClient.catch(() => (glanceClient = undefined));
    return glanceClient;
  }

  function remember<T extends ResolvedImage | ResolvedFlavor>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = resolved.get(key);
    if (hit !== undefined && clock() - hit.at < resolveCacheMs) return hit.value as Promise<T>;
    const value = load();
    resolved.set(key, { at: clock(), value });
    value.catch(() => resolved.delete(key));
    return value;
  }

  /** On the book's v1.x API, refs are URLs as the book wrote them; elsewhere plain ids. */
  async function ref(kind: "images" | "flavors", id: string): Promise<string> {
    const endpoint = await nova.context.endpoint();
    return /\/v1\.\d+(\/|$)/.test(new URL(endpoint).pathname) && !/^https?:\/\//.test(id) ? `${endpoint}/${kind}/${encodeURIComponent(id)}` : id;
  }

  const cloud: OpenStackComputeCloud = {
    session,
    nova,
    glance,
    requestId: session.transport.requestId,
    redact: (text) => session.transport.mask(text),
    stats: () => session.stats(),
    imageMetadata: async () => (await glance()) ?? nova.images,
    discoveryFallback: () => nova.context.discoveryFallback(),
    health: () => {
      const expiry = session.cachedTokenExpiry();
      const features = nova.context.knownFeatures();
      const fallback = nova.context.discoveryFallback();
      const computeEndpoint = session.cachedEndpoint("compute");
      const imageEndpoint = session.cachedEndpoint("image");
      return {
        ...(computeEndpoint === undefined ? {} : { computeEndpoint }),
        ...(imageEndpoint === undefined ? {} : { imageEndpoint }),
        ...(expiry === undefined ? {} : { tokenExpiresAt: new Date(expiry).toISOString() }),
        ...(features === undefined ? {} : { computeMicroversion: features.version === undefined ? "legacy" : formatMicroversion(features.version) }),
        ...(fallback === undefined ? {} : { discoveryFallback: session.transport.mask(fallback) }),
        ...(imagesVia === undefined ? {} : { images: imagesVia }),
      };
    },

    async listServers(options: ListServersOptions = {}): Promise<ObservedServer[]> {
      const servers = await nova.servers.listSummaries(undefined, options.addresses === true ? { addresses: true } : {});
      const partial = servers.filter((s) => s.metadata === undefined && (s.status ?? "UNKNOWN").toUpperCase() === "UNKNOWN");
      if (partial.length > 0) {
        // From 2.69, servers in an unreachable cell come back without metadata: group membership cannot be told.
        throw new OpenStackError({
          method: "GET",
          url: `${await nova.context.endpoint()}/servers/detail`,
          status: 0,
          kind: "incompleteListing",
          message: `${partial.length} server(s) came back partial (status UNKNOWN, no metadata: a cell is down); the listing is incomplete`,
          category: "transient",
        });
      }
      return servers.map((server) => toObservedServer(server, (text) => session.transport.mask(text)));
    },

    resolveImage(imageRef: ResourceRef): Promise<ResolvedImage> {
      return remember(`image:${JSON.stringify(imageRef)}`, async () => {
        const g = await glance();
        if (typeof imageRef === "string") {
          const image = g !== undefined ? await g.find(imageRef) : await nova.images.find(imageRef);
          return { id: image.id, name: image.name ?? imageRef };
        }
        if (g !== undefined) {
          const image = await g.get(imageRef.id);
          requireUsable("image", image.id, image.status === "active", `status ${image.status}`);
          return { id: image.id, name: image.name ?? "" };
        }
        const image = await nova.images.get(imageRef.id);
        requireUsable("image", image.id, (image.status ?? "ACTIVE").toUpperCase() === "ACTIVE", `status ${image.status ?? "unknown"}`);
        return { id: image.id, name: image.name ?? "" };
      });
    },

    resolveFlavor(flavorRef: ResourceRef): Promise<ResolvedFlavor> {
      return remember(`flavor:${JSON.stringify(flavorRef)}`, async () => {
        const flavor = typeof flavorRef === "string" ? await nova.flavors.find(flavorRef) : await nova.flavors.get(flavorRef.id);
        if (typeof flavorRef !== "string") requireUsable("flavor", flavor.id, flavor["OS-FLV-DISABLED:disabled"] !== true, "disabled");
        return { id: flavor.id, name: flavor.name, vcpus: flavor.vcpus ?? 0, ramMB: flavor.ram ?? 0 };
      });
    },

    async boot(spec: BootSpec): Promise<BootResult> {
      const result = await nova.servers.create({
        name: spec.name,
        imageRef: await ref("images", spec.imageId),
        flavorRef: await ref("flavors", spec.flavorId),
        metadata: spec.metadata,
        networks: spec.networks,
        ...(spec.keyName === undefined ? {} : { keyName: spec.keyName }),
        ...(spec.userData === undefined ? {} : { userData: spec.userData }),
        ...(spec.securityGroups === undefined ? {} : { securityGroups: spec.securityGroups }),
        ...(spec.availabilityZone === undefined ? {} : { availabilityZone: spec.availabilityZone }),
        ...(spec.count === 1 ? {} : { minCount: spec.count, maxCount: spec.count }),
        ...(spec.labels === undefined ? {} : { labels: spec.labels }),
      });
      return {
        serverIds: result.id === undefined ? [] : [result.id],
        ...(result.reservationId === undefined ? {} : { reservationId: result.reservationId }),
      };
    },

    async deleteServer(id: string): Promise<void> {
      try {
        await nova.servers.delete(id);
      } catch (e) {
        // Already gone is what we wanted (e.g. a retried delete whose first answer was lost).
        if (!(e instanceof OpenStackError && e.status === 404)) throw e;
      }
    },

    async serverFault(id: string): Promise<ObservedServer["fault"] | null> {
      try {
        return faultOf((await nova.servers.get(id)).fault, (text) => session.transport.mask(text)) ?? null;
      } catch (e) {
        if (e instanceof OpenStackError && e.status === 404) return null;
        throw e;
      }
    },

    async serverAction(id: string, action: ServerAction): Promise<void> {
      await nova.servers[action](id);
    },

    async mergeServerMetadata(id: string, metadata: Record<string, string>): Promise<void> {
      await nova.servers.mergeMetadata(id, metadata);
    },

    async deleteServerMetadataItem(id: string, key: string): Promise<void> {
      try {
        await nova.servers.deleteMetadataItem(id, key);
      } catch (e) {
        if (!(e instanceof OpenStackError && e.status === 404)) throw e;
      }
    },

    async absoluteLimits(): Promise<AbsoluteLimits> {
      const { absolute } = await nova.limits.get();
      const max = (key: string) => {
        const v = absolute[key];
        return v === undefined || v === null || v < 0 ? null : v;
      };
      const used = (key: string) => Math.max(0, absolute[key] ?? 0);
      return {
        maxTotalInstances: max("maxTotalInstances"),
        totalInstancesUsed: used("totalInstancesUsed"),
        maxTotalCores: max("maxTotalCores"),
        totalCoresUsed: used("totalCoresUsed"),
        maxTotalRAMSize: max("maxTotalRAMSize"),
        totalRAMUsed: used("totalRAMUsed"),
        maxServerMeta: max("maxServerMeta"),
        maxImageMeta: max("maxImageMeta"),
      };
    },

    async findKeyPair(name: string): Promise<{ name: string }> {
      const keypair = await nova.keypairs.find(name);
      return { name: keypair.name };
    },

    createImage(serverId: string, name: string, metadata: Record<string, string>): Promise<string> {
      return nova.servers.createImage(serverId, name, metadata);
    },

    async listImages(properties: Record<string, string>): Promise<ObservedImage[]> {
      const g = await glance();
      const images = g !== undefined ? (await g.list(properties)).map(fromGlance) : (await nova.images.list()).map(fromNovaProxy);
      // Also checked here: Nova's proxy cannot filter, and a cloud that ignores a filter must not hand us others' images.
      return images.filter((image) => Object.entries(properties).every(([k, v]) => image.properties[k] === v));
    },

    async getImage(id: string): Promise<ObservedImage | null> {
      const g = await glance();
      try {
        return g !== undefined ? fromGlance(await g.get(id)) : fromNovaProxy(await nova.images.get(id));
      } catch (e) {
        if (e instanceof OpenStackError && e.status === 404) return null;
        throw e;
      }
    },

    async deleteImage(id: string): Promise<void> {
      const g = await glance();
      try {
        if (g !== undefined) await g.delete(id);
        else await nova.images.delete(id);
      } catch (e) {
        if (!(e instanceof OpenStackError && e.status === 404)) throw e;
      }
    },
  };
  return cloud;
}

/** Nova's fault message as cloud text is kept elsewhere: one line, masked, clipped, masked again (clipping must not keep part of a secret). */
function faultOf(fault: ServerSummary["fault"] | Server["fault"], mask: (text: string) => string): ObservedServer["fault"] {
  const message = fault?.message?.replace(/\s+/g, " ").trim();
  if (fault == null || message === undefined || message === "") return undefined;
  return { message: mask(clip(mask(message))), ...(fault.code === undefined ? {} : { code: fault.code }), ...(fault.created === undefined ? {} : { created: fault.created }) };
}

export function toObservedServer(server: ServerSummary, mask: (text: string) => string = (text) => text): ObservedServer {
  const fault = faultOf(server.fault, mask);
  return {
    id: server.id,
    name: server.name ?? "",
    status: (server.status ?? "UNKNOWN").toUpperCase(),
    taskState: server["OS-EXT-STS:task_state"] ?? null,
    created: server.created ?? "",
    metadata: server.metadata ?? {},
    ...(server.flavor?.vcpus !== undefined && server.flavor.ram !== undefined ? { flavor: { vcpus: server.flavor.vcpus, ramMB: server.flavor.ram } } : {}),
    ...(server.flavor?.original_name === undefined ? {} : { flavorName: server.flavor.original_name }),
    ...(server.flavor?.id === undefined ? {} : { flavorId: String(server.flavor.id) }),
    // Volume-backed servers report image "" (or none): they use no image retention could delete.
    ...(server.image === undefined ? {} : { imageId: server.image }),
    ...(server.addresses === undefined ? {} : { addresses: server.addresses }),
    ...(fault === undefined ? {} : { fault }),
  };
}

export function fromGlance(image: GlanceImage): ObservedImage {
  return { id: image.id, name: image.name ?? "", status: image.status, created: image.created_at ?? "", properties: imageProperties(image) };
}

/** Nova's proxy reports Glance states in its own words; map them back to Glance's. */
const GLANCE_STATUS_BY_NOVA: Record<string, string> = { ACTIVE: "active", SAVING: "saving", QUEUED: "queued", ERROR: "killed", DELETED: "deleted" };

export function fromNovaProxy(image: NovaImage): ObservedImage {
  const status = (image.status ?? "ACTIVE").toUpperCase();
  return {
    id: image.id,
    name: image.name ?? "",
    status: GLANCE_STATUS_BY_NOVA[status] ?? status.toLowerCase(),
    created: image.created ?? "",
    properties: image.metadata ?? {},
  };
}

function requireUsable(what: string, id: string, usable: boolean, why: string): void {
  if (!usable) throw new OpenStackError({ method: "GET", url: `${what}/${id}`, status: 0, kind: "notUsable", message: `the ${what} ${id} cannot be used (${why})`, category: "config" });
}

function configError(message: string): OpenStackError {
  return new OpenStackError({ method: "CONFIG", url: "OS_ENDPOINT_OVERRIDES", status: 0, kind: "invalidSettings", message, category: "config" });
}
