// Servers an operator handed to a group explicitly (PUT/PATCH ?adopt=true): the group's record of them, and the mode-change check.
import { z } from "zod";
import { placementKey, placementLabel, type Placement } from "../../config/clouds.ts";
import { isMember } from "../../core/model/membership.ts";
import { modeChangeRisk, unbootedMembers } from "../../core/scaling/adoption.ts";
import type { GroupRules } from "../../core/model/rules.ts";
import type { CoordinatorStore } from "../../store/coordinator.ts";
import type { GuardAnswer } from "../rules/registry-engine.ts";
import type { CloudPort } from "../gateway/gateway.ts";

/** The storage slot of the ids of servers adopted by the group (they count as booted by novascale: see core/scaling/adoption.ts). */
const ADOPTED_SLOT = "adopted";
/** At most this many adopted ids are kept (the newest); a group's members are far fewer. */
const ADOPTED_KEPT = 5_000;
/** Ids shown in a refusal's message (all of them are in its details). */
const IDS_IN_MESSAGE = 10;

export async function adoptedServers(store: CoordinatorStore): Promise<string[]> {
  const parsed = z.array(z.string()).safeParse(await store.getSlot(ADOPTED_SLOT));
  return parsed.success ? parsed.data : [];
}

export interface ModeChangeInput {
  name: string;
  before: Pick<GroupRules, "mode" | "scaleIn">;
  after: Pick<GroupRules, "mode" | "scaleIn">;
  adopt: boolean;
  author: string;
  at: string;
  /** Where the group runs now and where the change would put it (config/clouds.ts placementOf); the gateway given is the current one's. */
  placement?: { before: Placement; after: Placement };
}

/**
 * A group moves to another cloud-region only with no member where it is: its servers there would be
 * orphaned (no group lists that cloud for them again) and a new set booted. Refused (409) while the
 * current cloud-region lists any member, and when it cannot be listed (nobody can tell).
 */
async function checkMove(input: ModeChangeInput, cloud: CloudPort): Promise<GuardAnswer | undefined> {
  const placement = input.placement as { before: Placement; after: Placement };
  const change = `moving group '${input.name}' from ${placementLabel(placement.before)} to ${placementLabel(placement.after)}`;
  const listing = await cloud.listServers();
  if (!listing.ok) {
    return { ok: false, refusal: { code: "cloud_unavailable", message: `cannot list the group's servers to check ${change}: ${listing.error.message}`, details: { category: listing.error.category } } };
  }
  const members = listing.value.filter((s) => isMember(s, input.name));
  if (members.length === 0) return undefined;
  const servers = members.map((s) => ({ id: s.id, name: s.name, status: s.status }));
  const message = `refused: ${change} while it has ${members.length} server(s) there; scale it to 0 (or delete them) first, then change cloud or region`;
  return { ok: false, refusal: { code: "conflict", message, details: { field: placement.before.cloud !== placement.after.cloud ? "cloud" : "region", count: members.length, servers } } };
}

/**
 * Decides a rules change against the servers novascale did not boot (run in the group's queue, from a
 * fresh listing): refused (409) when the change would strand them and the request does not adopt them;
 * with adopt, their ids are recorded (so they may be deleted like the group's own) and an activity line says so.
 */
export async function checkModeChange(store: CoordinatorStore, input: ModeChangeInput, cloud: CloudPort): Promise<GuardAnswer> {
  const moved = input.placement !== undefined && placementKey(input.placement.before) !== placementKey(input.placement.after);
  if (moved) {
    const refusal = await checkMove(input, cloud);
    if (refusal !== undefined) return refusal;
  }
  const risk = modeChangeRisk(input.before, input.after);
  if (risk === undefined) return { ok: true, details: { adopted: [] } };
  const listing = await cloud.listServers();
  if (!listing.ok) {
    const message = `cannot list the group's servers to check the change (${risk}): ${listing.error.message}`;
    return { ok: false, refusal: { code: "cloud_unavailable", message, details: { category: listing.error.category } } };
  }
  const known = await adoptedServers(store);
  const strays = unbootedMembers(listing.value, input.name, new Set(known));
  if (strays.length === 0) return { ok: true, details: { adopted: [] } };
  const servers = strays.map((s) => ({ id: s.id, name: s.name, status: s.status }));
  if (!input.adopt) {
    const ids = strays.slice(0, IDS_IN_MESSAGE).map((s) => s.id).join(", ") + (strays.length > IDS_IN_MESSAGE ? ", ..." : "");
    const message =
      `refused: ${risk} would strand ${strays.length} server(s) of group '${input.name}' that novascale did not boot (${ids}); ` +
      `novascale never deletes them. Untag them (remove the novascale:group key), or repeat the request with ?adopt=true to hand them to the group (they may then be deleted like its own)`;
    return { ok: false, refusal: { code: "conflict", message, details: { count: strays.length, servers } } };
  }
  const next = [...known, ...strays.map((s) => s.id)].slice(-ADOPTED_KEPT);
  await store.setSlot(ADOPTED_SLOT, next);
  store.appendActivity([
    { at: input.at, kind: "servers-adopted", author: input.author, reason: `${strays.length} server(s) novascale did not boot adopted for ${risk}: they are treated as the group's own, deletes included`, serverIds: strays.map((s) => s.id) },
  ]);
  return { ok: true, details: { adopted: servers } };
}
