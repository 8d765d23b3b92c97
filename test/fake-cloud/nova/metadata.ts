// Fake Nova's server metadata and tags.
import { empty, isRecord, json, novaError } from "../http.ts";
import type { FakeServer } from "../model.ts";
import { type Handler, type Nova, body, conflict, findServer, invalidInput, notFound } from "./context.ts";

export const METADATA_STATES = new Set(["active", "paused", "suspended", "stopped"]);

export function metadataRoute(method: string, key: string | undefined): Handler | undefined {
  if (key === undefined) {
    if (method === "GET") return (n, [, id]) => withServer(n, id, (s) => json(200, { metadata: { ...s.metadata } }));
    if (method === "POST" || method === "PUT") return (n, [, id]) => updateMetadata(n, id, method === "PUT");
    return undefined;
  }
  if (method === "GET") {
    return (n, [, id]) => withServer(n, id, (s) => (key in s.metadata ? json(200, { meta: { [key]: s.metadata[key] } }) : novaError(404, "Metadata item was not found")));
  }
  if (method === "PUT") return (n, [, id]) => putMetadataItem(n, id, key);
  if (method === "DELETE") {
    return (n, [, id]) =>
      withServer(n, id, (s) => {
        if (!(key in s.metadata)) return novaError(404, "Metadata item was not found");
        if (!METADATA_STATES.has(s.vmState)) return conflict("delete_instance_metadata", s);
        delete s.metadata[key];
        s.updated = n.cloud.now();
        return empty(204);
      });
  }
  return undefined;
}

export function withServer(n: Nova, id: string | undefined, then: (s: FakeServer) => Response | Promise<Response>): Response | Promise<Response> {
  const s = findServer(n, id ?? "");
  if (s === undefined) return notFound(n, id);
  return then(s);
}

export function metadataProblem(n: Nova, metadata: unknown, resulting: number): Response | Record<string, string> {
  if (!isRecord(metadata)) return invalidInput("metadata", metadata, "is not of type 'object'");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (k.length < 1 || k.length > 255 || typeof v !== "string" || v.length > 255) return invalidInput("metadata", metadata, `'${k}' is not a valid metadata item`);
    out[k] = v;
  }
  const limit = n.cloud.quotaOf(n.projectId).metadata_items;
  if (limit >= 0 && resulting > limit) return novaError(403, `Maximum number of metadata items exceeds ${limit}`);
  return out;
}

export async function updateMetadata(n: Nova, id: string | undefined, replace: boolean): Promise<Response> {
  const s = findServer(n, id ?? "");
  if (s === undefined) return notFound(n, id);
  const b = await body(n);
  const given = isRecord(b) ? b.metadata : undefined;
  const count = isRecord(given) ? (replace ? Object.keys(given).length : Object.keys({ ...s.metadata, ...given }).length) : 0;
  const parsed = metadataProblem(n, given, count);
  if (parsed instanceof Response) return parsed;
  if (!METADATA_STATES.has(s.vmState)) return conflict("update_instance_metadata", s);
  s.metadata = replace ? parsed : { ...s.metadata, ...parsed };
  s.updated = n.cloud.now();
  return json(200, { metadata: { ...s.metadata } });
}

export async function putMetadataItem(n: Nova, id: string | undefined, key: string): Promise<Response> {
  const s = findServer(n, id ?? "");
  if (s === undefined) return notFound(n, id);
  const b = await body(n);
  const meta = isRecord(b) ? b.meta : undefined;
  if (!isRecord(meta)) return invalidInput("meta", meta, "'meta' is a required property");
  if (Object.keys(meta).length > 1) return novaError(400, "Request body contains too many items");
  if (!(key in meta)) return novaError(400, "Request body and URI mismatch");
  const parsed = metadataProblem(n, meta, Object.keys({ ...s.metadata, ...meta }).length);
  if (parsed instanceof Response) return parsed;
  if (!METADATA_STATES.has(s.vmState)) return conflict("update_instance_metadata", s);
  s.metadata = { ...s.metadata, ...parsed };
  s.updated = n.cloud.now();
  return json(200, { meta: parsed });
}

export function validTag(tag: unknown): tag is string {
  return typeof tag === "string" && tag.length > 0 && tag.length <= 60 && !tag.includes("/") && !tag.includes(",");
}

export function tagsRoute(method: string, tag: string | undefined): Handler | undefined {
  if (tag === undefined) {
    if (method === "GET") return (n, [, id]) => withServer(n, id, (s) => json(200, { tags: [...s.tags] }));
    if (method === "PUT") {
      return async (n, [, id]) => {
        const s = findServer(n, id ?? "");
        if (s === undefined) return notFound(n, id);
        const b = await body(n);
        const tags = isRecord(b) ? b.tags : undefined;
        if (!Array.isArray(tags) || !tags.every(validTag)) return invalidInput("tags", tags, "is not a valid list of tags");
        if (tags.length > 50) return novaError(400, "The number of tags exceeded the per-server limit 50");
        s.tags = [...new Set(tags)].sort();
        return json(200, { tags: [...s.tags] });
      };
    }
    if (method === "DELETE") {
      return (n, [, id]) =>
        withServer(n, id, (s) => {
          s.tags = [];
          return empty(204);
        });
    }
    return undefined;
  }
  if (method === "GET") return (n, [, id]) => withServer(n, id, (s) => (s.tags.includes(tag) ? empty(204) : novaError(404, `Tag ${tag} could not be found.`)));
  if (method === "PUT") {
    return (n, [, id]) =>
      withServer(n, id, (s) => {
        if (!validTag(tag)) return invalidInput("tag", tag, "is not a valid tag");
        if (s.tags.includes(tag)) return empty(204);
        if (s.tags.length >= 50) return novaError(400, "The number of tags exceeded the per-server limit 50");
        s.tags = [...s.tags, tag].sort();
        return empty(201, { Location: `${n.selfBase}/servers/${s.id}/tags/${encodeURIComponent(tag)}`, "Content-Type": "text/html; charset=UTF-8" });
      });
  }
  if (method === "DELETE") {
    return (n, [, id]) =>
      withServer(n, id, (s) => {
        if (!s.tags.includes(tag)) return novaError(404, `Tag ${tag} could not be found.`);
        s.tags = s.tags.filter((t) => t !== tag);
        return empty(204);
      });
  }
  return undefined;
}
