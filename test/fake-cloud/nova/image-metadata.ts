// Fake Nova's image-metadata proxy (/images/{id}/metadata[/{key}], microversions 2.1-2.38): Glance image properties seen through Nova.
import { empty, isRecord, json, novaError } from "../http.ts";
import type { FakeImage } from "../model.ts";
import { BOOK_NOT_FOUND, type Handler, type Nova, body, findImage, invalidInput } from "./context.ts";
import { metadataProblem } from "./metadata.ts";

/** Nova's proxy answers up to 2.38 (MAX_IMAGE_META_PROXY_API_VERSION), two microversions past the images proxy (2.35). */
export const MAX_IMAGE_METADATA_MV = 38;

function withImage(n: Nova, id: string | undefined, then: (image: FakeImage) => Response | Promise<Response>): Response | Promise<Response> {
  const image = findImage(n, id ?? "");
  if (image === undefined) return novaError(404, n.legacy ? BOOK_NOT_FOUND : "Image not found.");
  return then(image);
}

/** Glance refuses to update an image the caller does not own; Nova passes it on as ImageNotAuthorized. */
function writable(n: Nova, image: FakeImage): Response | undefined {
  if (image.ownerProjectId === n.projectId || n.isAdmin) return undefined;
  return novaError(403, `Not authorized for image ${image.id}.`);
}

/** Nova's check_img_metadata_properties_quota: the whole resulting property set against metadata_items. */
function overQuota(n: Nova, count: number): Response | undefined {
  const limit = n.cloud.quotaOf(n.projectId).metadata_items;
  return limit >= 0 && count > limit ? novaError(403, "Image metadata limit exceeded") : undefined;
}

function save(n: Nova, image: FakeImage, properties: Record<string, string>): void {
  image.properties = properties;
  image.updated = n.cloud.now();
}

async function updateAll(n: Nova, id: string | undefined, replace: boolean): Promise<Response> {
  const image = findImage(n, id ?? "");
  if (image === undefined) return novaError(404, n.legacy ? BOOK_NOT_FOUND : "Image not found.");
  const b = await body(n);
  if (!isRecord(b) || b.metadata === undefined) return invalidInput("metadata", undefined, "'metadata' is a required property");
  // Schema first (400, resulting count 0 skips the server-metadata quota words), then the image's own quota (403).
  const parsed = metadataProblem(n, b.metadata, 0);
  if (parsed instanceof Response) return parsed;
  const next = replace ? parsed : { ...image.properties, ...parsed };
  const refused = overQuota(n, Object.keys(next).length) ?? writable(n, image);
  if (refused !== undefined) return refused;
  save(n, image, next);
  return json(200, { metadata: { ...next } });
}

async function putItem(n: Nova, id: string | undefined, key: string): Promise<Response> {
  const image = findImage(n, id ?? "");
  if (image === undefined) return novaError(404, n.legacy ? BOOK_NOT_FOUND : "Image not found.");
  const b = await body(n);
  const meta = isRecord(b) ? b.meta : undefined;
  if (!isRecord(meta)) return invalidInput("meta", meta, "'meta' is a required property");
  const parsed = metadataProblem(n, meta, 0);
  if (parsed instanceof Response) return parsed;
  if (!(key in parsed)) return novaError(400, "Request body and URI mismatch");
  if (Object.keys(parsed).length > 1) return novaError(400, "Request body contains too many items");
  const next = { ...image.properties, [key]: parsed[key] as string };
  const refused = overQuota(n, Object.keys(next).length) ?? writable(n, image);
  if (refused !== undefined) return refused;
  save(n, image, next);
  return json(200, { meta: { [key]: parsed[key] } });
}

export function imageMetadataRoute(method: string, key: string | undefined): Handler | undefined {
  if (key === undefined) {
    if (method === "GET") return (n, [, id]) => withImage(n, id, (image) => json(200, { metadata: { ...image.properties } }));
    if (method === "POST" || method === "PUT") return (n, [, id]) => updateAll(n, id, method === "PUT");
    return undefined;
  }
  if (method === "GET") {
    // Nova raises a bare HTTPNotFound here, so the message is webob's default.
    return (n, [, id]) => withImage(n, id, (image) => (key in image.properties ? json(200, { meta: { [key]: image.properties[key] } }) : novaError(404, "The resource could not be found.")));
  }
  if (method === "PUT") return (n, [, id]) => putItem(n, id, key);
  if (method === "DELETE") {
    // One key goes; the image stays (the fake used to route this to the image delete).
    return (n, [, id]) =>
      withImage(n, id, (image) => {
        if (!(key in image.properties)) return novaError(404, "Invalid metadata key");
        const refused = writable(n, image);
        if (refused !== undefined) return refused;
        const { [key]: _gone, ...rest } = image.properties;
        save(n, image, rest);
        return empty(204);
      });
  }
  return undefined;
}
