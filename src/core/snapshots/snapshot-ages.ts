// Each server's newest active snapshot novascale made (group nightly, manual, policy): what /metrics reports as its age.
import { GROUP_KEY, IMAGE_MADE_BY_KEY, IMAGE_MADE_BY_VALUE, IMAGE_SOURCE_SERVER_KEY } from "../model/membership.ts";
import type { ObservedImage, ObservedServer } from "../model/types.ts";

/** One server's newest active snapshot, as of the image listing that found it. */
export interface NewestSnapshot {
  serverId: string;
  serverName: string;
  /** The server's group (its membership tag), "" for a server of no group (a policy may select by metadata). */
  group: string;
  imageId: string;
  imageName: string;
  /** Glance's created_at of the image (ISO-8601): the age is measured from it. */
  created: string;
}

/**
 * For each of `servers`, its newest `active` image among `images` that carries novascale's made-by mark and
 * names it as the source; servers without one are left out. Costs one pass over the listing already read.
 */
export function newestSnapshots(servers: readonly ObservedServer[], images: readonly ObservedImage[]): NewestSnapshot[] {
  const newest = new Map<string, ObservedImage>();
  for (const image of images) {
    if (image.properties[IMAGE_MADE_BY_KEY] !== IMAGE_MADE_BY_VALUE || image.status.toLowerCase() !== "active") continue;
    const source = image.properties[IMAGE_SOURCE_SERVER_KEY];
    if (source === undefined || Number.isNaN(Date.parse(image.created))) continue;
    const held = newest.get(source);
    if (held === undefined || Date.parse(image.created) > Date.parse(held.created) || (image.created === held.created && image.id > held.id)) newest.set(source, image);
  }
  return servers.flatMap((server): NewestSnapshot[] => {
    const image = newest.get(server.id);
    if (image === undefined) return [];
    return [{ serverId: server.id, serverName: server.name, group: server.metadata[GROUP_KEY] ?? "", imageId: image.id, imageName: image.name, created: image.created }];
  });
}

/** Several sources' answers as one per server (a server snapshotted by its group and by a policy): the newest wins, ordered by server id. */
export function mergeNewest(lists: ReadonlyArray<readonly NewestSnapshot[]>): NewestSnapshot[] {
  const byServer = new Map<string, NewestSnapshot>();
  for (const entry of lists.flat()) {
    const held = byServer.get(entry.serverId);
    if (held === undefined || Date.parse(entry.created) > Date.parse(held.created)) byServer.set(entry.serverId, entry);
  }
  return [...byServer.values()].sort((a, b) => (a.serverId < b.serverId ? -1 : a.serverId > b.serverId ? 1 : 0));
}

/** The stored entries of servers still in `present` (a member that went away stops being reported, without a new listing). */
export function stillPresent(entries: readonly NewestSnapshot[], present: readonly ObservedServer[]): NewestSnapshot[] {
  const ids = new Set(present.map((s) => s.id));
  return entries.filter((e) => ids.has(e.serverId));
}
