// The service catalog in one normalised shape (Keystone v3, v2.0 `access`, the book's v2.0), and endpoint lookup.
import { OpenStackError } from "./errors.ts";

export type Interface = "public" | "internal" | "admin";

export interface CatalogEndpoint {
  interface: Interface;
  region: string | undefined;
  url: string;
}

export interface CatalogService {
  /** Service type: compute, image, identity, ... */
  type: string;
  name: string | undefined;
  endpoints: CatalogEndpoint[];
}

export type Catalog = CatalogService[];

/** The book's catalog is keyed by service *name*; these are the names of that era and their types. */
const TYPE_BY_BOOK_NAME: Record<string, string> = {
  nova: "compute",
  nova_compat: "compute",
  glance: "image",
  identity: "identity",
  keystone: "identity",
  swift: "object-store",
  cinder: "volume",
};

/** Accepts `public`/`publicURL` and friends, as OS_INTERFACE allows both. */
export function normaliseInterface(value: string | undefined): Interface {
  if (value === undefined) return "public";
  const v = value.replace(/URL$/i, "").toLowerCase();
  if (v === "public" || v === "internal" || v === "admin") return v;
  throw new Error(`unknown endpoint interface "${value}" (use public, internal or admin)`);
}

/** Keystone v2.0 endpoints carry one URL per interface: {region, publicURL, internalURL, adminURL}. */
export function endpointsFromV2(entries: ReadonlyArray<Record<string, unknown>>): CatalogEndpoint[] {
  const out: CatalogEndpoint[] = [];
  for (const entry of entries) {
    const region = typeof entry["region"] === "string" ? entry["region"] : undefined;
    for (const iface of ["public", "internal", "admin"] as const) {
      const url = entry[`${iface}URL`];
      if (typeof url === "string" && url !== "") out.push({ interface: iface, region, url });
    }
  }
  return out;
}

/** The book's `serviceCatalog: {"nova": [...], "glance": [...]}`. */
export function catalogFromBook(serviceCatalog: Record<string, ReadonlyArray<Record<string, unknown>>>): Catalog {
  return Object.entries(serviceCatalog).map(([name, entries]) => ({
    type: TYPE_BY_BOOK_NAME[name.toLowerCase()] ?? name,
    name,
    endpoints: endpointsFromV2(entries),
  }));
}

export interface EndpointQuery {
  type: string;
  interface?: Interface;
  region?: string | undefined;
}

/** Finds an endpoint URL, or returns undefined (for optional services such as Glance on a book-era cloud). */
export function findEndpoint(catalog: Catalog, query: EndpointQuery): string | undefined {
  const iface = query.interface ?? "public";
  for (const service of catalog) {
    if (service.type !== query.type) continue;
    for (const endpoint of service.endpoints) {
      if (endpoint.interface !== iface) continue;
      if (query.region !== undefined && endpoint.region !== query.region) continue;
      return endpoint.url.replace(/\/+$/, "");
    }
  }
  return undefined;
}

/** Like findEndpoint, but a missing endpoint is an error naming what was looked for and what the catalog has. */
export function requireEndpoint(catalog: Catalog, query: EndpointQuery, authUrl: string): string {
  const url = findEndpoint(catalog, query);
  if (url !== undefined) return url;
  const wanted = `${query.type} endpoint (interface ${query.interface ?? "public"}${query.region === undefined ? "" : `, region ${query.region}`})`;
  throw new OpenStackError({
    method: "CATALOG",
    url: authUrl,
    status: 0,
    kind: "endpointNotFound",
    message: `no ${wanted} in the service catalog; it has: ${describeCatalog(catalog)}. Check OS_REGION_NAME / OS_INTERFACE or set OS_ENDPOINT_OVERRIDES.`,
    category: "config",
  });
}

/** "compute (public RegionOne, internal RegionOne), image (public RegionOne)" */
export function describeCatalog(catalog: Catalog): string {
  if (catalog.length === 0) return "nothing (is the token scoped to a project?)";
  return catalog
    .map((s) => {
      const eps = s.endpoints.map((e) => `${e.interface}${e.region === undefined ? "" : ` ${e.region}`}`);
      return `${s.type}${s.name !== undefined && s.name !== s.type ? ` "${s.name}"` : ""} (${eps.join(", ") || "no endpoints"})`;
    })
    .join(", ");
}
