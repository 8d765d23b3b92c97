// Compute API version discovery and microversion negotiation, and the behaviour switches that depend on the version.
import { z } from "zod";
import { OpenStackError } from "../errors.ts";
import { joinUrl } from "../http.ts";
import type { Session } from "../session.ts";

export interface Microversion {
  major: number;
  minor: number;
}

/** The newest microversion whose behaviour this client knows (later ones only add response fields it ignores). */
export const MAX_SUPPORTED_MICROVERSION: Microversion = { major: 2, minor: 96 };
export const MIN_SUPPORTED_MICROVERSION: Microversion = { major: 2, minor: 1 };

/** The microversions at which Nova changes behaviour this client cares about. */
export const SWITCHES = {
  /** A server may carry a free-text description (boot, update, rebuild). */
  serverDescription: { major: 2, minor: 19 },
  serverTags: { major: 2, minor: 26 },
  imageProxyRemoved: { major: 2, minor: 36 },
  networksRequired: { major: 2, minor: 37 },
  createImageIdInBody: { major: 2, minor: 45 },
  tagsAtBoot: { major: 2, minor: 52 },
  personalityRemoved: { major: 2, minor: 57 },
  /** unshelve may name an availability zone (before: the body is null). */
  unshelveToZone: { major: 2, minor: 77 },
  /** unshelve may name a host, and availability_zone null unpins the server. */
  unshelveToHost: { major: 2, minor: 91 },
} as const satisfies Record<string, Microversion>;

/** "auto": the highest both sides support; "latest": whatever the cloud's newest is; "2.N": exactly that. */
export type MicroversionRequest = "auto" | "latest" | `${number}.${number}`;

export interface ComputeFeatures {
  /** "legacy": v1.1 / v2 endpoints (the book's, or /v2/{project}), which know no microversions. */
  era: "microversions" | "legacy";
  /** What goes into X-OpenStack-Nova-API-Version and OpenStack-API-Version (undefined: send neither). */
  header: string | undefined;
  /** The version the cloud will act by (for "latest": the cloud's maximum); undefined in the legacy era. */
  version: Microversion | undefined;
  /** Servers carry a `description` (2.19). */
  serverDescription: boolean;
  serverTags: boolean;
  /** Nova's /images proxy (and image metadata through Nova) is still there. */
  imageProxy: boolean;
  /** A boot must say `networks` ("auto", "none" or a list). */
  networksRequired: boolean;
  /** createImage answers `{"image_id"}`; before, only a Location header names the image. */
  createImageIdInBody: boolean;
  tagsAtBoot: boolean;
  /** File injection at boot and rebuild (gone from 2.57; user_data replaces it). */
  personality: boolean;
  /**
   * Set when version discovery failed (401/403/5xx/network) and calls go to the catalog URL without
   * microversions, as keystoneauth does: why, for status. Not remembered beyond the calls of one cloud.
   */
  discoveryFallback?: string;
}

export function compareMicroversions(a: Microversion, b: Microversion): number {
  return a.major === b.major ? a.minor - b.minor : a.major - b.major;
}

export function formatMicroversion(v: Microversion): string {
  return `${v.major}.${v.minor}`;
}

/** Parses "2.53" or "latest"; "2.latest" is not a microversion (Nova answers 400), so it is refused here. */
export function parseMicroversion(value: string): Microversion | "latest" {
  const text = value.trim();
  if (text === "latest") return "latest";
  const m = /^(\d+)\.(\d+)$/.exec(text);
  if (m === null) {
    throw new OpenStackError({
      method: "VERSION",
      url: "compute",
      status: 0,
      kind: "invalidMicroversion",
      message: `"${value}" is not a microversion: use "X.Y" (e.g. "2.53") or "latest"${text === "2.latest" ? ' ("2.latest" is rejected by Nova with 400)' : ""}`,
      category: "config",
    });
  }
  return { major: Number(m[1]), minor: Number(m[2]) };
}

export function featuresFor(version: Microversion | undefined, header: string | undefined): ComputeFeatures {
  if (version === undefined) {
    return { era: "legacy", header: undefined, version: undefined, serverDescription: false, serverTags: false, imageProxy: true, networksRequired: false, createImageIdInBody: false, tagsAtBoot: false, personality: true };
  }
  const atLeast = (v: Microversion) => compareMicroversions(version, v) >= 0;
  return {
    era: "microversions",
    header,
    version,
    serverDescription: atLeast(SWITCHES.serverDescription),
    serverTags: atLeast(SWITCHES.serverTags),
    imageProxy: !atLeast(SWITCHES.imageProxyRemoved),
    networksRequired: atLeast(SWITCHES.networksRequired),
    createImageIdInBody: atLeast(SWITCHES.createImageIdInBody),
    tagsAtBoot: atLeast(SWITCHES.tagsAtBoot),
    personality: !atLeast(SWITCHES.personalityRemoved),
  };
}

/** Picks the microversion to send, given the cloud's range (from the version document). */
export function negotiate(serverMin: Microversion, serverMax: Microversion, request: MicroversionRequest = "auto"): ComputeFeatures {
  const wanted = request === "auto" ? MAX_SUPPORTED_MICROVERSION : parseMicroversion(request);
  if (wanted === "latest") return featuresFor(serverMax, "latest");
  const chosen = request === "auto" && compareMicroversions(serverMax, wanted) < 0 ? serverMax : wanted;
  if (compareMicroversions(chosen, serverMin) < 0 || compareMicroversions(chosen, serverMax) > 0 || compareMicroversions(chosen, MIN_SUPPORTED_MICROVERSION) < 0) {
    throw new OpenStackError({
      method: "VERSION",
      url: "compute",
      status: 0,
      kind: "microversionUnavailable",
      message: `microversion ${formatMicroversion(chosen)} is outside what the cloud offers (${formatMicroversion(serverMin)}–${formatMicroversion(serverMax)}) or this client supports (${formatMicroversion(MIN_SUPPORTED_MICROVERSION)}–${formatMicroversion(MAX_SUPPORTED_MICROVERSION)})`,
      category: "config",
    });
  }
  return featuresFor(chosen, formatMicroversion(chosen));
}

/** v1.0/v1.1 (the book) and v2 (the pre-microversion API, often /v2/{project_id}) endpoints. */
export function isLegacyComputeUrl(endpoint: string): boolean {
  return /\/v(1\.[01]|2)(\/|$)/.test(new URL(endpoint).pathname);
}

/** The book's v1.0/v1.1 API, whose metadata-item bodies say "metadata" where later Nova says "meta". */
export function isBookComputeUrl(endpoint: string): boolean {
  return /\/v1\.[01](\/|$)/.test(new URL(endpoint).pathname);
}

const VersionSchema = z.looseObject({
  id: z.string(),
  status: z.string().optional(),
  version: z.string().nullish(),
  min_version: z.string().nullish(),
  links: z.array(z.looseObject({ rel: z.string().optional(), href: z.string() })).optional(),
});
const VersionDocSchema = z.union([z.object({ version: VersionSchema }), z.object({ versions: z.array(VersionSchema) })]);
export type VersionEntry = z.infer<typeof VersionSchema>;

export interface ComputeDiscovery {
  /** Where compute calls go: the configured endpoint, or the chosen version's URL under an unversioned one. */
  endpoint: string;
  features: ComputeFeatures;
}

/**
 * Reads the compute version document (the endpoint itself, else the service root) and negotiates.
 * An unversioned endpoint (`https://cloud.example/compute`, `http://nova:8774/`) answers the list of
 * versions: as keystoneauth does, calls then go to the chosen version's URL, not to the root.
 */
export async function discoverCompute(session: Session, endpoint: string, request: MicroversionRequest = "auto"): Promise<ComputeDiscovery> {
  if (request !== "auto") parseMicroversion(request); // refuse "2.latest" before any request
  const base = endpoint.replace(/\/+$/, "");
  if (isLegacyComputeUrl(base)) return { endpoint: base, features: featuresFor(undefined, undefined) };
  let found: Awaited<ReturnType<typeof fetchVersionEntry>>;
  try {
    found = await fetchVersionEntry(session, `${base}/`, base);
    if (found === undefined) {
      const root = base.replace(/\/v2\.1(\/.*)?$/, "/");
      if (root !== `${base}/`) found = await fetchVersionEntry(session, root, base);
    }
  } catch (e) {
    // keystoneauth falls back to the catalog URL when the version document cannot be read (a proxy that
    // guards it with 401/403, a 5xx, no answer): the API still works, at its base version (2.1, no headers).
    // Our own not-sent refusals (budget, deadline, rate limit) are no answer from the cloud: they stay errors.
    if (!(e instanceof OpenStackError) || e.status === 0 && !["network", "timeout"].includes(e.kind) || !["auth", "transient"].includes(e.category)) throw e;
    const why = e.status === 0 ? e.kind : `HTTP ${e.status}`;
    return {
      endpoint: base,
      features: { ...featuresFor(undefined, undefined), era: "microversions", discoveryFallback: `compute version discovery failed (${why}: ${e.detail}); calling ${base} without microversions (2.1 behaviour)` },
    };
  }
  const entry = found?.entry;
  // A single version document at the endpoint means the endpoint is that version, whatever its path says.
  const chosen = found === undefined || !found.listed ? base : versionUrl(base, found.entry);
  // No version document at all: a v2.1 API that predates microversion reporting; behave as 2.1 would, without headers.
  if (entry === undefined || entry.version === undefined || entry.version === null || entry.version === "") return { endpoint: chosen, features: featuresFor(undefined, undefined) };
  const max = parseMicroversion(entry.version);
  const min = entry.min_version !== undefined && entry.min_version !== null && entry.min_version !== "" ? parseMicroversion(entry.min_version) : MIN_SUPPORTED_MICROVERSION;
  if (max === "latest" || min === "latest") return { endpoint: chosen, features: featuresFor(undefined, undefined) };
  return { endpoint: chosen, features: negotiate(min, max, request) };
}

/**
 * The endpoint itself when it already names the chosen version (`…/v2.1`, `…/v2.1/{project}`), else the
 * endpoint plus the version's path segment. Only the segment is taken from the document: its links often
 * name an internal host or lose a proxy's path prefix, while the configured endpoint is what reaches Nova.
 */
export function versionUrl(endpoint: string, entry: VersionEntry): string {
  const self = entry.links?.find((l) => l.rel === "self")?.href;
  let segment: string | undefined;
  try {
    segment = self === undefined ? undefined : new URL(self, `${endpoint}/`).pathname.split("/").filter((p) => p !== "").pop();
  } catch {
    segment = undefined;
  }
  segment ??= entry.id;
  if (!/^v\d+(\.\d+)?$/.test(segment)) return endpoint;
  const path = new URL(endpoint).pathname.split("/").filter((p) => p !== "");
  return path.includes(segment) ? endpoint : `${endpoint}/${segment}`;
}

/** The version entry for `endpoint`; `listed` when it came from a list of versions (a service root's answer). */
async function fetchVersionEntry(session: Session, url: string, endpoint: string): Promise<{ entry: VersionEntry; listed: boolean } | undefined> {
  let text: string;
  try {
    const response = await session.request({ method: "GET", url, service: "compute" });
    text = response.text;
  } catch (e) {
    if (e instanceof OpenStackError && (e.category === "notFound" || e.category === "config" || e.category === "cloud")) return undefined;
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = VersionDocSchema.safeParse(json);
  if (!parsed.success) return undefined;
  if ("version" in parsed.data) return { entry: parsed.data.version, listed: false };
  // From the root list: the entry whose link is our endpoint, else the CURRENT one with microversions.
  const base = `${joinUrl(endpoint, "").replace(/\/+$/, "")}/`;
  const versions = parsed.data.versions;
  const entry =
    versions.find((v) => (v.links ?? []).some((l) => l.rel === "self" && base.startsWith(`${l.href.replace(/\/+$/, "")}/`))) ??
    versions.find((v) => v.id === "v2.1") ??
    versions.find((v) => v.status === "CURRENT");
  return entry === undefined ? undefined : { entry, listed: true };
}
