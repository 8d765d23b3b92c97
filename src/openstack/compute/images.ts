// Nova's image proxy (the book's era; removed at 2.36, so calls are pinned to 2.35 on newer clouds): list, get, delete, metadata.
import { OpenStackError } from "../errors.ts";
import { findByName, SUGGESTION_PAGE_SIZE, SUGGESTION_PAGES } from "../names.ts";
import { followPages } from "../paging.ts";
import { type ComputeContext, nextPageQuery, type Query, seg } from "./context.ts";
import { MetaBodySchema, MetadataBodySchema, type NovaImage, NovaImageBodySchema, NovaImageListSchema } from "./schemas.ts";
import { compareMicroversions, SWITCHES } from "./versions.ts";

/** The last microversion with the proxy. */
const LAST_PROXY_MICROVERSION = "2.35";

export function imagesApi(ctx: ComputeContext) {
  /** The header for proxy calls: the negotiated one while the proxy exists, 2.35 after. */
  async function proxyMicroversion(): Promise<string | undefined> {
    const f = await ctx.features();
    if (f.imageProxy) return f.header;
    if (f.version !== undefined && compareMicroversions(f.version, SWITCHES.imageProxyRemoved) >= 0) return LAST_PROXY_MICROVERSION;
    return f.header;
  }

  async function send(method: "GET" | "POST" | "PUT" | "DELETE", path: string, extra: { json?: unknown; query?: Query | undefined; expect?: readonly number[] } = {}) {
    const microversion = await proxyMicroversion();
    return ctx.send({ method, path, ...extra, ...(microversion === undefined ? {} : { microversion }), ...(method === "POST" ? { retry: "idempotent" as const } : {}) });
  }

  return {
    /**
     * GET /images/detail (or /images), following `images_links`; filters as Nova takes them (name, status,
     * server, ...). `maxPages` bounds the look on purpose (name suggestions); otherwise every page or an error.
     */
    async list(options: { detail?: boolean; query?: Query; maxPages?: number } = {}): Promise<NovaImage[]> {
      const path = options.detail === false ? "images" : "images/detail";
      return followPages(
        async (next) => {
          const body = ctx.session.transport.parse(await send("GET", path, { query: { ...options.query, ...next } }), NovaImageListSchema);
          return { items: body.images, next: nextPageQuery(body.images_links) };
        },
        { what: "image", where: `${await ctx.endpoint()}/${path}`, ...(options.maxPages === undefined ? {} : { stopAfter: options.maxPages }) },
      );
    },

    async get(id: string): Promise<NovaImage> {
      return ctx.session.transport.parse(await send("GET", `images/${seg(id)}`), NovaImageBodySchema).image;
    },

    async delete(id: string): Promise<void> {
      await send("DELETE", `images/${seg(id)}`, { expect: [200, 202, 204] });
    },

    /** The one ACTIVE image with exactly this name; otherwise a config error listing near matches. */
    async find(name: string): Promise<NovaImage> {
      // Nova filters by exact name; only when nothing matches is a bounded first look taken, for suggestions.
      const named = await this.list({ query: { name } });
      const images = named.length > 0 ? named : await this.list({ query: { limit: SUGGESTION_PAGE_SIZE }, maxPages: SUGGESTION_PAGES });
      return findByName(
        images.map((i) => ({ ...i, name: i.name ?? "" })),
        name,
        { what: "image", where: `${await ctx.endpoint()}/images/detail`, isUsable: (i) => (i.status ?? "ACTIVE").toUpperCase() === "ACTIVE", unusableWhy: (i) => `status ${i.status ?? "unknown"}` },
      );
    },

    async metadata(id: string): Promise<Record<string, string>> {
      return ctx.session.transport.parse(await send("GET", `images/${seg(id)}/metadata`), MetadataBodySchema).metadata;
    },
    async metadataItem(id: string, key: string): Promise<string> {
      const meta = ctx.session.transport.parse(await send("GET", `images/${seg(id)}/metadata/${seg(key)}`), MetaBodySchema).meta;
      const value = meta[key] ?? Object.values(meta)[0];
      if (value === undefined) throw new OpenStackError({ method: "GET", url: `images/${id}/metadata/${key}`, status: 404, kind: "itemNotFound", message: `no metadata item ${key}` });
      return value;
    },
    /** PUT: replaces all metadata of the image. */
    async setMetadata(id: string, metadata: Record<string, string>): Promise<Record<string, string>> {
      return ctx.session.transport.parse(await send("PUT", `images/${seg(id)}/metadata`, { json: { metadata } }), MetadataBodySchema).metadata;
    },
    /** POST: merges. */
    async mergeMetadata(id: string, metadata: Record<string, string>): Promise<Record<string, string>> {
      return ctx.session.transport.parse(await send("POST", `images/${seg(id)}/metadata`, { json: { metadata } }), MetadataBodySchema).metadata;
    },
    async setMetadataItem(id: string, key: string, value: string): Promise<Record<string, string>> {
      return ctx.session.transport.parse(await send("PUT", `images/${seg(id)}/metadata/${seg(key)}`, { json: await ctx.metaItemBody(key, value) }), MetaBodySchema).meta;
    },
    async deleteMetadataItem(id: string, key: string): Promise<void> {
      await send("DELETE", `images/${seg(id)}/metadata/${seg(key)}`, { expect: [200, 204] });
    },
  };
}

export type NovaImagesApi = ReturnType<typeof imagesApi>;
