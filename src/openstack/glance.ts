// Glance v2 images: list by name or by our own properties (all pages), get, delete, and properties via JSON patch.
import { z } from "zod";
import { OpenStackError } from "./errors.ts";
import { joinUrl, withQuery } from "./http.ts";
import { findByName, SUGGESTION_PAGE_SIZE, SUGGESTION_PAGES } from "./names.ts";
import { followPages, pageQueryOf } from "./paging.ts";
import type { Session } from "./session.ts";

export const GlanceImageSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
  status: z.string(),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  visibility: z.string().optional(),
  owner: z.string().nullish(),
  tags: z.array(z.string()).optional(),
});
export type GlanceImage = z.infer<typeof GlanceImageSchema>;
/** Glance's default api_limit_max: the largest page it hands out (glance/common/config.py). */
export const GLANCE_MAX_PAGE_SIZE = 1000;

const GlanceListSchema = z.looseObject({ images: z.array(GlanceImageSchema), next: z.string().optional() });

/** Glance's own image fields; everything else on an image is a user property. */
export const CORE_IMAGE_FIELDS: ReadonlySet<string> = new Set([
  "id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo", "os_hash_value", "owner",
  "size", "virtual_size", "min_ram", "min_disk", "created_at", "updated_at", "tags", "self", "file", "schema",
  "disk_format", "container_format", "locations", "direct_url", "stores",
]);

/** The image's user properties (string values only: that is what Glance stores for them). */
export function imageProperties(image: GlanceImage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(image)) {
    if (!CORE_IMAGE_FIELDS.has(key) && typeof value === "string") out[key] = value;
  }
  return out;
}

export type JsonPatchOp = { op: "add" | "replace"; path: string; value: string } | { op: "remove"; path: string };

const PATCH_TYPE = "application/openstack-images-v2.1-json-patch";

/** JSON pointer escaping for a property name used as a patch path. */
export function pointer(key: string): string {
  return `/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

export function createGlanceClient(session: Session) {
  let base: Promise<string> | undefined;
  /** The catalog names Glance's root (":9292") or a versioned URL; requests go to …/v2. */
  function v2(): Promise<string> {
    base ??= session.endpoint("image").then((url) => (/\/v2(\.\d+)?$/.test(url) ? url : joinUrl(url, "v2")));
    base.catch(() => (base = undefined));
    return base;
  }

  async function get(id: string): Promise<GlanceImage> {
    const response = await session.request({ method: "GET", url: joinUrl(await v2(), `images/${encodeURIComponent(id)}`), service: "image" });
    return session.transport.parse(response, GlanceImageSchema);
  }

  async function patch(id: string, ops: JsonPatchOp[], retry: "idempotent" | "never" = "idempotent"): Promise<GlanceImage> {
    const response = await session.request({
      method: "PATCH",
      url: joinUrl(await v2(), `images/${encodeURIComponent(id)}`),
      raw: { body: JSON.stringify(ops), contentType: PATCH_TYPE },
      expect: [200],
      retry,
      service: "image",
    });
    return session.transport.parse(response, GlanceImageSchema);
  }

  return {
    endpoint: v2,

    /**
     * GET /v2/images with filters, every page (follows `next`). Glance filters on any property given as a
     * query parameter (`?novascale:group=web`), plus name, status, visibility, owner, tag, ...
     */
    async list(filters: Record<string, string> = {}, options: { pageSize?: number; maxPages?: number } = {}): Promise<GlanceImage[]> {
      const baseUrl = joinUrl(await v2(), "images");
      // Without a limit Glance answers 25 per page (limit_param_default): 60 images would cost 3 requests of a
      // tick's 50. Ask for its maximum instead; a cloud configured lower caps it silently (no error).
      const first: Record<string, string> = { ...filters, limit: String(options.pageSize ?? GLANCE_MAX_PAGE_SIZE) };
      return followPages(
        async (next) => {
          const response = await session.request({ method: "GET", url: withQuery(baseUrl, next ?? first), service: "image" });
          const body = session.transport.parse(response, GlanceListSchema);
          // `next` is relative to Glance's root, which may sit behind a path prefix: keep only its query.
          const nextQuery = body.next === undefined ? undefined : pageQueryOf(body.next);
          return { items: body.images, next: nextQuery };
        },
        { what: "image", where: baseUrl, ...(options.maxPages === undefined ? {} : { stopAfter: options.maxPages }) },
      );
    },

    get,

    async delete(id: string): Promise<void> {
      await session.request({ method: "DELETE", url: joinUrl(await v2(), `images/${encodeURIComponent(id)}`), expect: [204, 200], service: "image" });
    },

    /** The one active image with exactly this name (Glance filters by name server-side). */
    async find(name: string): Promise<GlanceImage> {
      const where = joinUrl(await v2(), "images");
      const named = await this.list({ name });
      // Nothing by that name: one bounded page for "did you mean" (a cloud may hold tens of thousands of images).
      const candidates = named.length > 0 ? named : await this.list({}, { pageSize: SUGGESTION_PAGE_SIZE, maxPages: SUGGESTION_PAGES });
      return findByName(
        candidates.map((i) => ({ ...i, name: i.name ?? "" })),
        name,
        { what: "image", where, isUsable: (i) => i.status === "active", unusableWhy: (i) => `status ${i.status}` },
      );
    },

    patch,

    // ---- properties, named as for servers' metadata ----
    async metadata(id: string): Promise<Record<string, string>> {
      return imageProperties(await get(id));
    },
    async metadataItem(id: string, key: string): Promise<string> {
      const value = imageProperties(await get(id))[key];
      if (value === undefined) {
        throw new OpenStackError({ method: "GET", url: joinUrl(await v2(), `images/${id}`), status: 404, kind: "itemNotFound", message: `image ${id} has no property ${key}` });
      }
      return value;
    },
    /** Replaces all user properties: adds/replaces the given ones, removes the others. */
    async setMetadata(id: string, properties: Record<string, string>): Promise<Record<string, string>> {
      const current = imageProperties(await get(id));
      const ops: JsonPatchOp[] = [
        ...Object.keys(current).filter((k) => !(k in properties)).map((k): JsonPatchOp => ({ op: "remove", path: pointer(k) })),
        ...Object.entries(properties).map(([k, v]): JsonPatchOp => ({ op: "add", path: pointer(k), value: v })),
      ];
      return imageProperties(await patch(id, ops));
    },
    /** Adds or replaces the given properties, leaving the others. */
    async mergeMetadata(id: string, properties: Record<string, string>): Promise<Record<string, string>> {
      return imageProperties(await patch(id, Object.entries(properties).map(([k, v]) => ({ op: "add", path: pointer(k), value: v }))));
    },
    async setMetadataItem(id: string, key: string, value: string): Promise<Record<string, string>> {
      const props = imageProperties(await patch(id, [{ op: "add", path: pointer(key), value }]));
      return { [key]: props[key] ?? value };
    },
    async deleteMetadataItem(id: string, key: string): Promise<void> {
      try {
        // Not retried: a replayed "remove" of a property already removed answers 409.
        await patch(id, [{ op: "remove", path: pointer(key) }], "never");
      } catch (e) {
        if (e instanceof OpenStackError && e.status === 409 && /not exist|not found|no such/i.test(e.detail)) {
          throw new OpenStackError({ method: e.method, url: e.url, status: 409, kind: "itemNotFound", message: e.detail, requestId: e.requestId, category: "notFound" });
        }
        throw e;
      }
    },
  };
}

export type GlanceClient = ReturnType<typeof createGlanceClient>;
