// The one place that decides which servers and images belong to a group, and the keys that say so.
import type { ObservedImage, ObservedServer } from "./types.ts";

/** Server metadata: the group a server belongs to. The only key that grants membership. */
export const GROUP_KEY = "novascale:group";
/**
 * Server metadata: the boot intent that created it, `<id>@<ISO time the boot was sent, Worker clock>`,
 * to recognise boots whose response was lost and to time builds on one clock (core/clock.ts).
 * Markers written before the time was added are a bare `<id>`.
 */
export const BOOT_INTENT_KEY = "novascale:boot";
/** Server metadata set by an operator: a protected server is never deleted (nor parked) by novascale. */
export const PROTECTED_KEY = "novascale:protected";
/** Server metadata novascale writes before it parks a server ("parked <ISO time>"), removed once the server is back. */
export const PARK_KEY = "novascale:park";
/** Server metadata set by an operator: start low tiers first, park high tiers first (an integer; none = 0). */
export const TIER_KEY = "novascale:tier";

/** Image properties novascale writes on the snapshots it makes. */
export const IMAGE_MADE_BY_KEY = "novascale:made-by";
export const IMAGE_MADE_BY_VALUE = "novascale";
export const IMAGE_GROUP_KEY = "novascale:group";
export const IMAGE_SOURCE_SERVER_KEY = "novascale:source-server";
export const IMAGE_FIRING_KEY = "novascale:firing";
/** Image property on snapshots taken on request (value "manual"): kept apart from scheduled ones. The fifth property: still fits the book's 5. */
export const IMAGE_KIND_KEY = "novascale:kind";
export const IMAGE_KIND_MANUAL = "manual";

/** Nova server tag on every server novascale boots (`openstack server list --tags novascale`). A label only: never read for membership. */
export const SERVER_TAG = "novascale";
/** Nova refuses tags over 60 characters (nova/objects/tag.py MAX_TAG_LENGTH). */
const MAX_TAG_LENGTH = 60;

/**
 * The labels a group's servers are booted with, so `openstack server list --tags novascale:web` and
 * Horizon's description column say who manages them: tags `novascale` and `novascale:<group>`, and the
 * description "managed by novascale group <group>". They are labels, not membership (the metadata key
 * GROUP_KEY stays the only rule: tags need 2.26 and an operator can edit them). A group name too long
 * for a tag (over 50 characters) is cut and given a hash of the whole name, so two long names never
 * share a tag.
 */
export function serverLabels(group: string): { tags: string[]; description: string } {
  const full = `${SERVER_TAG}:${group}`;
  const tag = full.length <= MAX_TAG_LENGTH ? full : `${full.slice(0, MAX_TAG_LENGTH - 9)}~${fnv1a(group)}`;
  return { tags: [SERVER_TAG, tag], description: `managed by novascale group ${group}` };
}

/** FNV-1a, 32 bits, as 8 hex digits: a short stable digest (not a secret, not a security boundary). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

export function isMember(server: ObservedServer, group: string): boolean {
  return server.metadata[GROUP_KEY] === group;
}

/**
 * Whether novascale booted this server for its group, or the operator adopted it (the group's record of
 * adopted servers, held by its Durable Object: see reconcile/groups/coordinator-adoption.ts). Only such
 * servers may ever be deleted; a server an operator tagged by hand (no boot intent marker) never is.
 */
export function isBooted(server: ObservedServer, adopted?: ReadonlySet<string>): boolean {
  return server.metadata[BOOT_INTENT_KEY] !== undefined || adopted?.has(server.id) === true;
}

export function isProtected(server: ObservedServer): boolean {
  const flag = server.metadata[PROTECTED_KEY];
  return flag !== undefined && flag.toLowerCase() !== "false" && flag !== "0";
}

/** Splits one project-wide listing into each named group's members; servers of no listed group are dropped. */
export function partitionByGroup(servers: readonly ObservedServer[], groups: readonly string[]): Map<string, ObservedServer[]> {
  const byGroup = new Map<string, ObservedServer[]>(groups.map((g) => [g, []]));
  for (const server of servers) {
    const group = server.metadata[GROUP_KEY];
    if (group !== undefined) byGroup.get(group)?.push(server);
  }
  return byGroup;
}

/** A snapshot image novascale made for this group (both marks must be present). */
export function isOwnSnapshot(image: ObservedImage, group: string): boolean {
  return image.properties[IMAGE_MADE_BY_KEY] === IMAGE_MADE_BY_VALUE && image.properties[IMAGE_GROUP_KEY] === group;
}

/** The boot intent marker for a boot sent at `sentAt` (the tick's `now`). */
export function bootIntentMarker(id: string, sentAt: Date): string {
  return `${id}@${sentAt.toISOString()}`;
}

/** When novascale sent the boot that made this server (ms, Worker clock), from its marker; undefined if it has none. */
export function bootSentAt(server: ObservedServer): number | undefined {
  const marker = server.metadata[BOOT_INTENT_KEY];
  const at = marker === undefined ? -1 : marker.indexOf("@");
  if (marker === undefined || at < 0) return undefined;
  const ms = Date.parse(marker.slice(at + 1));
  return Number.isNaN(ms) ? undefined : ms;
}
