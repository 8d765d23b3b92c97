// The pure planner: a group's desired count + its observed members + `now` -> steps (boots and deletes), each with a reason.
import { parks, type Group } from "../model/rules.ts";
import type { Desired, Destiny, Notice, ObservedServer, Step } from "../model/types.ts";
import { estimateCloudOffset, skewNotice } from "./clock.ts";
import { destinyOf, RESUME_FAILED, snapshotUnderWay, taskInProgress, type Classified } from "./destiny.ts";
import { BOOT_INTENT_KEY, isBooted, isMember, isProtected } from "../model/membership.ts";
import { planParks, planPoolCap, planResumes, planUnmarks, respectedWoken, type ParkingPlanInput } from "./park-plan.ts";

export interface PlanInput {
  group: Group;
  desired: Desired;
  /** The group's members from one listing; anything else in here is ignored (and reported). */
  members: ObservedServer[];
  now: Date;
  /** False when the listing was partial: then nothing is deleted this tick. */
  listingComplete: boolean;
  /** The marker this tick's boots will carry (BOOT_INTENT_KEY), to report servers a retried tick already booted. */
  bootIntent?: string;
  /** When novascale resumed each server it is bringing back (the group's resume records), by server id. */
  resuming?: Readonly<Record<string, string>>;
  /**
   * Servers the operator handed to the group explicitly (PUT/PATCH `?adopt=true`, the group's record): they
   * count as booted by novascale. Any other member without the boot intent marker is never deleted.
   */
  adopted?: readonly string[];
}

export interface PlanResult {
  steps: Step[];
  notices: Notice[];
  /** Members by Nova status (upper case), every member included. */
  actualByStatus: Record<string, number>;
  /** Members that count toward capacity (see destiny.ts). */
  counted: number;
  /** Members parked by the group (stopped or shelved, resumable), and those on their way there. */
  parked: number;
  /**
   * Members that exist and are not on their way out: counted ones and broken ones whose delete has not
   * been sent. Never more than the group's max of these may exist at once (core/limits.ts GroupCeiling).
   */
  present: number;
}

/** Destinies that count toward capacity: a server in BUILD counts, so the next tick does not boot it again. */
const COUNTS: ReadonlySet<Destiny> = new Set<Destiny>(["count", "build", "wait", "unknown", "resuming", "woken"]);
/**
 * Destinies of servers that occupy a place under the group's max: all but those already going away.
 * Parked servers do not (pool.max caps them); a power group's broken ones ("report") stay and do.
 */
const PRESENT: ReadonlySet<Destiny> = new Set<Destiny>(["count", "build", "wait", "unknown", "replace", "resuming", "woken", "report"]);

/*
 * Scale-in victims, in this order (the only place it is written):
 *   1. never a protected server (PROTECTED_KEY), nor one that is "wait" or "unknown" (left alone);
 *   2. broken ones first: ERROR, stuck BUILD and SHUTOFF are "replace" and deleted before anything else
 *      (they do not count, so they are deleted as replacements, not as victims); a SHUTOFF server kept
 *      by policy (replaceShutoff false) is the first victim, since it serves nobody;
 *   3. then BUILD (not serving yet);
 *   4. then ACTIVE;
 *   5. last, servers with a task under way (rebooting, ...), and the source of tonight's snapshot must
 *      not be the next victim; a server whose snapshot uploads (task image_*) is no victim at all this
 *      tick: deleting it would kill the upload (it goes once the task ends);
 * within each rank by the group's scaleIn.order on `created` (oldest-first by default), ties by id.
 * A server novascale did not boot (no boot intent marker, not adopted) is never a victim of a group that
 * deletes: it is left running (notice `not-booted-kept`); a group that parks may park it (parking.ts).
 * Groups that park instead (scaleIn.action shelve/stop, power groups) use the park and resume orders
 * in park-plan.ts.
 */
function victimRank(c: Classified): number {
  if (c.destiny === "replace") return 0;
  if (c.destiny === "build") return 2;
  if (taskInProgress(c.server) !== undefined) return 4;
  // A server started by hand while parked goes before the others (its group meant it to be off).
  if (c.destiny === "woken") return 2.5;
  return c.server.status.toUpperCase() === "ACTIVE" ? 3 : 1;
}

function createdMs(server: ObservedServer): number {
  const ms = Date.parse(server.created);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/** Sorts servers into deletion order (see the comment above): the first is deleted first. */
export function compareVictims(order: "oldest-first" | "newest-first"): (a: Classified, b: Classified) => number {
  return (a, b) => {
    const byRank = victimRank(a) - victimRank(b);
    if (byRank !== 0) return byRank;
    const [ca, cb] = [createdMs(a.server), createdMs(b.server)];
    // A server whose creation time cannot be read goes last whichever the order: we know least about it.
    if (ca !== cb) {
      if (ca === Number.POSITIVE_INFINITY) return 1;
      if (cb === Number.POSITIVE_INFINITY) return -1;
      return order === "oldest-first" ? ca - cb : cb - ca;
    }
    return a.server.id < b.server.id ? -1 : a.server.id > b.server.id ? 1 : 0;
  };
}

function deleteStep(group: string, server: ObservedServer, reason: string): Step {
  return { kind: "delete", group, serverId: server.id, serverName: server.name, reason };
}

export function plan(input: PlanInput): PlanResult {
  const { group, desired, now } = input;
  const { rules } = group;
  const notices: Notice[] = [];

  // Defensive: membership is decided again here, so a caller's mistake can never delete a stranger's server.
  const members = input.members.filter((s) => isMember(s, group.name));
  const strangers = input.members.length - members.length;
  if (strangers > 0) {
    notices.push({ level: "warning", code: "ignored-non-members", message: `${strangers} server(s) without the tag of group '${group.name}' were ignored` });
  }

  // Build ages on one clock (see clock.ts): the offset corrects only servers whose marker has no time.
  const offset = estimateCloudOffset(members);
  const skew = skewNotice(offset);
  if (skew !== undefined) notices.push(skew);
  // Resume times come from the group's records, taken on the Worker's clock like `now`: no offset needed.
  const resumedAt = (s: ObservedServer) => {
    const at = input.resuming?.[s.id];
    return at === undefined || Number.isNaN(Date.parse(at)) ? undefined : new Date(at);
  };
  const adopted = new Set(input.adopted ?? []);
  const classified = members.map((s) => destinyOf(s, rules, now, offset?.offsetMs, resumedAt(s), adopted)).sort(compareVictims(rules.scaleIn.order));
  const actualByStatus: Record<string, number> = {};
  for (const s of members) {
    const status = s.status.toUpperCase();
    actualByStatus[status] = (actualByStatus[status] ?? 0) + 1;
  }
  const counted = classified.filter((c) => COUNTS.has(c.destiny)).length;
  const parkedCount = classified.filter((c) => c.destiny === "parked" || c.destiny === "parking").length;
  const present = classified.filter((c) => PRESENT.has(c.destiny)).length;
  for (const c of classified.filter((c) => c.destiny === "unknown")) {
    notices.push({ level: "warning", code: "unknown-status", message: `server ${c.server.name} (${c.server.id}) has ${c.why}: counted and left alone` });
  }
  for (const c of classified.filter((c) => c.destiny === "report")) {
    const never = rules.mode === "power" ? "a power group never deletes or replaces" : "novascale never deletes a server it did not boot";
    const code = c.why.startsWith(RESUME_FAILED) ? RESUME_FAILED : "member-broken";
    notices.push({ level: "error", code, message: `server ${c.server.name} (${c.server.id}) is ${c.why}: ${code === RESUME_FAILED ? "never deleted" : never}; not counted, left for an operator` });
  }
  for (const c of classified.filter((c) => c.destiny === "parked" && c.why.startsWith(RESUME_FAILED))) {
    notices.push({ level: "warning", code: RESUME_FAILED, message: `server ${c.server.name} (${c.server.id}): ${c.why}` });
  }
  for (const c of classified.filter((c) => c.destiny === "held")) {
    notices.push({ level: "info", code: "held-by-hand", message: `server ${c.server.name} (${c.server.id}) is ${c.why}: not counted, not started by novascale` });
  }
  if (input.bootIntent !== undefined) {
    const fromThisIntent = members.filter((s) => s.metadata[BOOT_INTENT_KEY] === input.bootIntent).length;
    if (fromThisIntent > 0) {
      notices.push({ level: "info", code: "boot-intent-seen", message: `${fromThisIntent} server(s) of boot intent ${input.bootIntent} already exist (a retried tick): they count and are not booted again` });
    }
  }

  if (desired.source === "paused") {
    notices.push({ level: "info", code: "paused", message: `group '${group.name}' is paused: no action (${desired.reason})` });
    return { steps: [], notices, actualByStatus, counted, present, parked: parkedCount };
  }

  // A partial listing undercounts: deleting on it could remove servers we did not see being needed.
  // Boots stay allowed: the count is a lower bound, and an extra server is removed by a later full tick.
  const mayDelete = input.listingComplete;
  if (!mayDelete) {
    notices.push({ level: "warning", code: "listing-incomplete", message: "the server listing was incomplete: nothing is deleted this tick" });
  }

  const steps: Step[] = [];
  const desiredText = `desired ${desired.value} (${desired.reason}), counted ${counted}`;

  const broken = classified.filter((c) => c.destiny === "replace");
  for (const c of broken) {
    if (isProtected(c.server)) {
      notices.push({ level: "warning", code: "protected-not-replaced", message: `protected server ${c.server.name} (${c.server.id}) is ${c.why}: not deleted; a replacement is booted` });
    } else if (mayDelete) {
      steps.push(deleteStep(group.name, c.server, `remove broken: ${c.server.name} is ${c.why}; it does not count toward desired ${desired.value}`));
    }
  }

  const parking: ParkingPlanInput = { group, desired, classified, mayDelete, desiredText, adopted };
  const missing = desired.value - counted;
  if (missing > 0) {
    // Parked members come back before anything is booted (a power group never boots).
    const resumed = planResumes(parking, missing);
    steps.push(...resumed.steps);
    const toBoot = resumed.stillMissing;
    if (toBoot > 0 && group.rules.mode === "power") {
      notices.push({ level: "warning", code: "power-short", message: `${toBoot} more server(s) should run, but group '${group.name}' has no more parked members to start (a power group never boots)` });
    } else if (toBoot > 0) {
      const replacing = Math.min(broken.length, toBoot);
      const why = replacing > 0 ? ` (including ${replacing} replacement(s))` : "";
      const after = resumed.steps.length > 0 ? `after resuming ${resumed.steps.length} parked, ` : "";
      steps.push({ kind: "boot", group: group.name, count: toBoot, reason: `scale out: ${desiredText}; ${after}boot ${toBoot}${why}` });
    }
  } else if (missing < 0 && (parks(rules) || rules.mode === "power")) {
    steps.push(...planParks(parking, -missing, notices));
  } else if (missing < 0) {
    const excess = -missing;
    const kept = new Set(respectedWoken(parking).map((c) => c.server.id));
    const running = classified.filter(
      (c) => (c.destiny === "count" || c.destiny === "build" || c.destiny === "woken") && !isProtected(c.server) && !kept.has(c.server.id) && snapshotUnderWay(c.server) === undefined,
    );
    // Never a server novascale did not boot: an operator's server is theirs to remove.
    const eligible = running.filter((c) => isBooted(c.server, adopted));
    const foreign = running.length - eligible.length;
    const victims = eligible.slice(0, excess);
    if (mayDelete) {
      victims.forEach((c, i) => {
        steps.push(deleteStep(group.name, c.server, `scale in: ${desiredText}; victim ${i + 1} of ${excess}: ${c.server.name} (${c.why}, created ${c.server.created}, ${rules.scaleIn.order})`));
      });
    }
    if (victims.length < excess && foreign > 0) {
      notices.push({
        level: "warning",
        code: "not-booted-kept",
        message: `${Math.min(foreign, excess - victims.length)} server(s) should go, but novascale did not boot them (no boot mark, not adopted): never deleted, left running; remove them by hand or adopt them (PUT/PATCH ?adopt=true)`,
      });
    } else if (victims.length < excess) {
      notices.push({
        level: "warning",
        code: "scale-in-blocked",
        message: `${excess - victims.length} more server(s) should go, but the rest are protected or busy (reboot, resize, a snapshot uploading, ...): left alone`,
      });
    }
  }

  steps.push(...planPoolCap(parking, steps));
  steps.push(...planUnmarks(parking));
  return { steps, notices, actualByStatus, counted, present, parked: parkedCount };
}
