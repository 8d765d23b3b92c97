// The OpenStack client's public API: a small typed fetch-based client for Keystone, Nova and Glance, and the ComputeCloud facade.
/**
 * ## Quick use (the reconciler's view)
 *
 * ```ts
 * const cloud = createComputeCloud(settings, { fetch, deadline: tickStart + 25_000, tokenCache });
 * const servers = await cloud.listServers();          // all pages of /servers/detail -> ObservedServer[]
 * const image = await cloud.resolveImage("cirros");   // exact, unique, active; else OpenStackError(category "config")
 * await cloud.boot({ name, imageId: image.id, flavorId, metadata, networks: "none", count: 2 });
 * cloud.stats().requests;                             // API calls so far (auth, discovery, retries included)
 * ```
 * `settings` is `OpenStackSettingsSchema.parse(env)` (src/config/env.ts). One cloud object = one session:
 * create one per tick and use it for every group (token, catalog and microversion are fetched once).
 * Pass a module-level `createTokenCache()` as `tokenCache` to also skip Keystone on the next tick.
 *
 * `createComputeCloud(settings, options)` options (all optional): `fetch`, `clock` (ms), `sleep`, `random`
 * (tests), `retry` ({maxAttempts, baseDelayMs, maxDelayMs, budgetMs}), `deadline` (absolute ms: no retry
 * starts after it), `requestTimeoutMs`, `maxRequests` (Workers' subrequest cap: stop before it), `endpointOverrides` ({compute, image}: merged over
 * OS_ENDPOINT_OVERRIDES), `tokenCache`, `microversion` ("auto" | "latest" | "2.N"; "2.latest" is refused),
 * `credentials` (instead of OS_*, e.g. `{method: "token", token, projectId}`), `resolveCacheMs`.
 *
 * Facade behaviour worth knowing: `deleteServer`/`deleteImage` treat 404 as done; `getImage` gives null on
 * 404; `listServers` throws (category "transient") when a page fails or Nova returns partial records;
 * `boot` is never retried; `listImages` uses Glance v2 (filtering server-side and again client-side) when
 * the catalog has a v2-capable image service, else Nova's image proxy; on the book's v1.1 API image and
 * flavor refs are sent as URLs.
 *
 * ## Lower level (every operation of the book)
 *
 * `cloud.nova` (or `createNovaClient(new Session({...}))`):
 * - `nova.features()` -> {era, header, version, serverTags, imageProxy, networksRequired, createImageIdInBody, tagsAtBoot}
 * - `nova.servers`: create(options) [never retried], list(filters?, {detail, pageSize}) [all pages], listSummaries(filters?) [all pages, only the fields planning reads], get, update
 *   (rename/access IPs), delete, addresses, addressesByNetwork, metadata, metadataItem, setMetadata (PUT),
 *   mergeMetadata (POST), setMetadataItem, deleteMetadataItem, changePassword, reboot(id, "SOFT"|"HARD"), rebuild,
 *   resize, confirmResize, revertResize, createImage (-> image id, body or Location), tags, replaceTags, addTag,
 *   hasTag, deleteTag, deleteAllTags.
 * - `nova.flavors`: list, get, find(name). `nova.limits`: get() -> {absolute, rate}.
 * - `nova.images` (Nova's proxy; pinned to 2.35 on newer clouds): list, get, delete, find(name), and the six
 *   metadata calls as for servers.
 * `await cloud.glance()` (or `createGlanceClient(session)`), Glance v2: list(filters) [all pages; any property
 * is a filter], get, delete, find(name), patch(id, ops), and metadata / metadataItem / setMetadata /
 * mergeMetadata / setMetadataItem / deleteMetadataItem over image properties (JSON patch).
 * `await cloud.imageMetadata()` gives whichever of the two this cloud has, with those six calls.
 *
 * `new Session({authUrl, credentials, region, interface, endpointOverrides, tokenCache, ...transport options})`:
 * `auth()` (token + catalog, cached, refreshed early), `endpoint(type)`, `request(...)` (adds X-Auth-Token,
 * re-authenticates once on 401), `stats()`. The auth URL decides the identity era: `…/v3`, `…/v2.0`, or a
 * bare root (v3 first, v2.0 when /v3 is 404). Keystone v2.0 answers in both the standard `access` body and
 * the book's `{"auth": {"token", "serviceCatalog": {"nova": [...]}}}` body are understood.
 *
 * ## Errors
 * Everything throws `OpenStackError` {method, url, status (0: no response / client-side), kind (Nova fault
 * name such as badRequest, itemNotFound, overLimit, conflictingRequest, computeFault; Keystone's title;
 * or the client's own: network, timeout, nameNotFound, ambiguousName, endpointNotFound, ...), detail,
 * requestId, retryAfterSeconds, category: "config" | "quota" | "auth" | "notFound" | "transient" | "cloud"}.
 * Messages never contain tokens or passwords (no run of 4 of their characters, in any encoding: secrets.ts).
 *
 * ## Wire behaviour
 * Every request carries `X-OpenStack-Request-Id: req-<uuid>` (`cloud.requestId`, one per cloud object,
 * i.e. per tick; the cloud's own ids are in `session.transport.returnedRequestIds()`). Redirects are
 * followed by the client (method and body kept, same server only: redirects.ts). Paged listings end or
 * fail (`pagingLoop`), never stop short (paging.ts). An unversioned compute endpoint is called at the
 * version discovery chose. `OS_USER_DOMAIN_ID` / `OS_PROJECT_DOMAIN_ID` / `OS_DEFAULT_DOMAIN_*` scope by id.
 */
export { type Catalog, type CatalogService, describeCatalog, findEndpoint, type Interface } from "./catalog.ts";
export type { AbsoluteLimits, BootResult, BootSpec, ComputeCloud, NetworkSpec, ResolvedFlavor, ResolvedImage } from "./cloud.ts";
export { createNovaClient, type NovaClient } from "./compute/client.ts";
export type { Flavor, NovaImage, RateLimit, Server, ServerSummary } from "./compute/schemas.ts";
export type { CreateServerOptions, CreateServerResult, RebuildOptions, ServerFilters } from "./compute/servers.ts";
export {
  type ComputeFeatures,
  MAX_SUPPORTED_MICROVERSION,
  type Microversion,
  type MicroversionRequest,
  negotiate,
  parseMicroversion,
  SWITCHES,
} from "./compute/versions.ts";
export {
  type ComputeCloudOptions,
  createComputeCloud,
  fromGlance,
  fromNovaProxy,
  type ImageMetadataApi,
  type OpenStackComputeCloud,
  parseEndpointOverrides,
  toObservedServer,
} from "./compute-cloud.ts";
export { type ErrorCategory, isOpenStackError, OpenStackError } from "./errors.ts";
export { createGlanceClient, type GlanceClient, type GlanceImage, imageProperties } from "./glance.ts";
export type { FetchFunction, RequestStats, TransportOptions } from "./http.ts";
export { type AuthResult, type Credentials, credentialsFromSettings } from "./keystone.ts";
export { createRateLimitMemory, endpointKey, type RateLimitMemory } from "./rate-limits.ts";
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry.ts";
export { createTokenCache, Session, type SessionOptions, type TokenCache } from "./session.ts";
