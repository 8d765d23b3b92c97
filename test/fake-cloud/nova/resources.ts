// Fake Nova's flavors, the images proxy, limits and quotas.
import { isoSeconds } from "../clock.ts";
import { empty, isRecord, json, novaError } from "../http.ts";
import { quotasFor } from "../model.ts";
import type { FakeImage, Quotas } from "../model.ts";
import { BOOK_NOT_FOUND, type Handler, type Nova, body, findImage, invalidInput, visibleImage } from "./context.ts";
import { rateView } from "./rate-limits.ts";
import { flavorView, links } from "./views.ts";

export function listFlavors(detail: boolean): Handler {
  return (n) => json(200, { flavors: n.cloud.flavors.map((f) => flavorView(n, f, detail)) });
}

export function showFlavor(n: Nova, [, id]: string[]): Response {
  const f = n.cloud.flavorById(id ?? "");
  if (f === undefined) return novaError(404, `Flavor ${id ?? ""} could not be found.`);
  return json(200, { flavor: flavorView(n, f, true) });
}

export const PROXY_STATUS: Record<string, string> = { queued: "SAVING", saving: "SAVING", active: "ACTIVE", killed: "ERROR", deleted: "DELETED", pending_delete: "DELETED" };

export function proxyImageView(n: Nova, image: FakeImage, detail: boolean): Record<string, unknown> {
  const id = n.legacy ? image.numericId : image.id;
  const v: Record<string, unknown> = { id, links: links(n, "images", id), name: image.name };
  if (!detail) return v;
  const server = image.properties.instance_uuid === undefined ? undefined : n.cloud.servers.get(image.properties.instance_uuid);
  Object.assign(v, {
    status: PROXY_STATUS[image.status] ?? image.status.toUpperCase(),
    progress: image.status === "active" ? 100 : image.status === "saving" ? 50 : 0,
    minDisk: image.minDisk,
    minRam: image.minRam,
    created: isoSeconds(image.created),
    updated: isoSeconds(image.updated),
    metadata: { ...image.properties },
    "OS-EXT-IMG-SIZE:size": image.size ?? 0,
  });
  if (server !== undefined) v.server = { id: n.legacy ? server.numericId : server.id, links: links(n, "servers", n.legacy ? server.numericId : server.id) };
  return v;
}

export function listProxyImages(detail: boolean): Handler {
  return (n) => {
    const images = [...n.cloud.images.values()].filter((i) => visibleImage(n, i)).sort((a, b) => b.created - a.created);
    return json(200, { images: images.map((i) => proxyImageView(n, i, detail)) });
  };
}

export function showProxyImage(n: Nova, [, id]: string[]): Response {
  const image = findImage(n, id ?? "");
  if (image === undefined) return novaError(404, n.legacy ? BOOK_NOT_FOUND : "Image not found.");
  return json(200, { image: proxyImageView(n, image, true) });
}

export function deleteProxyImage(n: Nova, [, id]: string[]): Response {
  const image = findImage(n, id ?? "");
  if (image === undefined) return novaError(404, n.legacy ? BOOK_NOT_FOUND : "Image not found.");
  if (image.ownerProjectId !== n.projectId && !n.isAdmin) return novaError(403, "You are not permitted to delete this image.");
  n.cloud.images.delete(image.id);
  return empty(204);
}

export function showLimits(n: Nova): Response {
  const q = n.cloud.quotaOf(n.projectId);
  const used = n.cloud.usage(n.projectId);
  const absolute: Record<string, number> = {
    maxTotalInstances: q.instances,
    maxTotalCores: q.cores,
    maxTotalRAMSize: q.ram,
    maxServerMeta: q.metadata_items,
  };
  if (n.legacy || n.mv < 39) absolute.maxImageMeta = q.metadata_items;
  if (n.legacy || n.mv < 57) {
    absolute.maxPersonality = q.injected_files;
    absolute.maxPersonalitySize = q.injected_file_content_bytes;
  }
  absolute.maxTotalKeypairs = q.key_pairs;
  if (!n.legacy) {
    absolute.maxServerGroups = q.server_groups;
    absolute.maxServerGroupMembers = q.server_group_members;
  }
  if (!n.legacy && n.mv < 36) {
    Object.assign(absolute, { maxSecurityGroups: 10, maxSecurityGroupRules: 20, maxTotalFloatingIps: 10, totalFloatingIpsUsed: 0, totalSecurityGroupsUsed: 0 });
  }
  Object.assign(absolute, { totalRAMUsed: used.ram, totalCoresUsed: used.cores, totalInstancesUsed: used.instances });
  if (!n.legacy) absolute.totalServerGroupsUsed = 0;
  return json(200, { limits: { rate: rateView(n), absolute } });
}

export const QUOTA_KEYS_MODERN: Array<keyof Quotas> = ["cores", "instances", "key_pairs", "metadata_items", "ram", "server_group_members", "server_groups"];
export const QUOTA_KEYS_OLD: Array<keyof Quotas> = [...QUOTA_KEYS_MODERN, "injected_file_content_bytes", "injected_file_path_bytes", "injected_files"];

export function quotaRoute(method: string, sub: string | undefined): Handler | undefined {
  return async (n, [, projectId]) => {
    const project = n.cloud.projects.get(projectId ?? "");
    if (project === undefined) return novaError(404, `Project ${projectId ?? ""} could not be found.`);
    if (project.id !== n.projectId && !n.isAdmin) return novaError(403, "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed.");
    const keys = n.mv >= 57 ? QUOTA_KEYS_MODERN : QUOTA_KEYS_OLD;
    const pick = (q: Quotas) => Object.fromEntries([...keys].sort().map((k) => [k, q[k]]));
    if (method === "GET" && sub === undefined) return json(200, { quota_set: { id: project.id, ...pick(n.cloud.quotaOf(project.id)) } });
    if (method === "GET" && sub === "defaults") {
      return json(200, { quota_set: { id: project.id, ...pick(quotasFor(n.cloud.options)) } });
    }
    if (method === "GET" && sub === "detail") {
      const q = n.cloud.quotaOf(project.id);
      const used = n.cloud.usage(project.id);
      const inUse: Partial<Record<keyof Quotas, number>> = { cores: used.cores, instances: used.instances, ram: used.ram };
      return json(200, { quota_set: { id: project.id, ...Object.fromEntries([...keys].sort().map((k) => [k, { limit: q[k], in_use: inUse[k] ?? 0, reserved: 0 }])) } });
    }
    if (!n.isAdmin) return novaError(403, `Policy doesn't allow os_compute_api:os-quota-sets:${method === "PUT" ? "update" : "delete"} to be performed.`);
    if (method === "PUT" && sub === undefined) {
      const b = await body(n);
      const set = isRecord(b) ? b.quota_set : undefined;
      if (!isRecord(set)) return invalidInput("quota_set", set, "'quota_set' is a required property");
      const q = { ...n.cloud.quotaOf(project.id) };
      for (const [k, v] of Object.entries(set)) {
        if (k === "force") continue;
        if (!keys.includes(k as keyof Quotas)) return invalidInput("quota_set", set, `Additional properties are not allowed ('${k}' was unexpected)`);
        const num = typeof v === "string" ? Number(v) : v;
        if (typeof num !== "number" || !Number.isInteger(num) || num < -1) return invalidInput(k, v, "is not valid under any of the given schemas");
        q[k as keyof Quotas] = num;
      }
      n.cloud.quotas.set(project.id, q);
      return json(200, { quota_set: pick(q) });
    }
    if (method === "DELETE" && sub === undefined) {
      n.cloud.quotas.delete(project.id);
      return empty(202);
    }
    return novaError(405, "The method specified is not allowed for this resource.");
  };
}
