// Fake Glance v2: list images (with property filters and paging), show, delete.
import type { FakeCloud, RequestContext } from "./cloud.ts";
import { isoSeconds } from "./clock.ts";
import { empty, glanceError, json } from "./http.ts";
import type { FakeImage, FakeToken } from "./model.ts";

const DEFAULT_PAGE = 25;
const MAX_PAGE = 1000;
/** Query parameters that are not property filters. */
const RESERVED = new Set(["limit", "marker", "sort_key", "sort_dir", "sort", "member_status", "os_hidden"]);

export async function handleImage(cloud: FakeCloud, ctx: RequestContext): Promise<Response> {
  const { path, method, roots } = ctx;
  const requestId = { "X-Openstack-Request-Id": `req-${cloud.rng.uuid()}` };
  if ((path === "/" || path === "/versions") && method === "GET") {
    return json(path === "/" ? 300 : 200, {
      versions: ["2.16", "2.15"].map((v, i) => ({ id: `v${v}`, status: i === 0 ? "CURRENT" : "SUPPORTED", links: [{ rel: "self", href: `${roots.image}/v2/` }] })),
    });
  }
  const token = cloud.authenticate(ctx.request);
  if (token === undefined || token.projectId === null) {
    return json(401, { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } }, { "WWW-Authenticate": `Keystone uri="${roots.identity}"` });
  }
  if (path === "/v2/images" && method === "GET") return listImages(cloud, token, ctx.url, requestId);
  const match = /^\/v2\/images\/([^/]+)$/.exec(path);
  if (match !== null) {
    const id = decodeURIComponent(match[1] ?? "");
    const image = cloud.images.get(id);
    if (image === undefined || !visible(image, token)) return glanceError(404, `No image found with ID ${id}`, requestId);
    if (method === "GET") return json(200, imageView(image), requestId);
    if (method === "DELETE") {
      if (image.ownerProjectId !== token.projectId && !token.roles.includes("admin")) return glanceError(403, "You are not permitted to delete this image.", requestId);
      if (image.protected) return glanceError(403, `Image ${id} is protected and cannot be deleted.`, requestId);
      cloud.images.delete(id);
      return empty(204, { "Content-Type": "text/html; charset=UTF-8", ...requestId });
    }
    return glanceError(405, "The method specified is not allowed for this resource.", requestId);
  }
  return glanceError(404, "The resource could not be found.", requestId);
}

function visible(image: FakeImage, token: FakeToken): boolean {
  return image.visibility === "public" || image.visibility === "community" || image.ownerProjectId === token.projectId || token.roles.includes("admin");
}

/** Glance v2's image document: fixed fields, then custom properties at the top level. */
export function imageView(image: FakeImage): Record<string, unknown> {
  return {
    ...image.properties,
    name: image.name,
    disk_format: image.diskFormat,
    container_format: image.containerFormat,
    visibility: image.visibility,
    size: image.size,
    virtual_size: image.size,
    status: image.status,
    checksum: image.checksum,
    protected: image.protected,
    min_ram: image.minRam,
    min_disk: image.minDisk,
    owner: image.ownerProjectId,
    os_hidden: false,
    os_hash_algo: image.checksum === null ? null : "sha512",
    os_hash_value: image.checksum === null ? null : image.checksum.repeat(4),
    id: image.id,
    created_at: isoSeconds(image.created),
    updated_at: isoSeconds(image.updated),
    tags: [...image.tags],
    self: `/v2/images/${image.id}`,
    file: `/v2/images/${image.id}/file`,
    schema: "/v2/schemas/image",
  };
}

function listImages(cloud: FakeCloud, token: FakeToken, url: URL, headers: Record<string, string>): Response {
  const q = url.searchParams;
  let images = [...cloud.images.values()].filter((i) => visible(i, token));
  // Glance's default listing shows the project's own and public images; `visibility=all` widens nothing here.
  images = images.filter((i) => i.visibility !== "community" || i.ownerProjectId === token.projectId);
  for (const [key, value] of q) {
    if (RESERVED.has(key)) continue;
    if (key === "tag") images = images.filter((i) => i.tags.includes(value));
    else if (key === "visibility") images = value === "all" ? images : images.filter((i) => i.visibility === value);
    else images = images.filter((i) => String(imageView(i)[key] ?? "") === value || i.properties[key] === value);
  }
  images.sort((a, b) => b.created - a.created || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0));
  const marker = q.get("marker");
  if (marker !== null) {
    const at = images.findIndex((i) => i.id === marker);
    if (at < 0) return glanceError(400, `marker could not be found: ${marker}`, headers);
    images = images.slice(at + 1);
  }
  const limitParam = q.get("limit");
  if (limitParam !== null && !/^\d+$/.test(limitParam)) return glanceError(400, "limit param must be an integer", headers);
  const limit = Math.min(limitParam === null ? DEFAULT_PAGE : Number(limitParam), MAX_PAGE);
  const page = images.slice(0, limit);
  const firstParams = new URLSearchParams(q);
  firstParams.delete("marker");
  const first = firstParams.size > 0 ? `/v2/images?${firstParams.toString()}` : "/v2/images";
  const body: Record<string, unknown> = { images: page.map(imageView), first, schema: "/v2/schemas/images" };
  const last = page[page.length - 1];
  if (last !== undefined && page.length === limit && images.length > limit) {
    const next = new URLSearchParams(q);
    next.set("marker", last.id);
    next.set("limit", String(limit));
    body.next = `/v2/images?${next.toString()}`;
  }
  return json(200, body, headers);
}
