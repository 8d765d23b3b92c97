// The parking half of plan(): which members to park, which parked ones to resume, and which to delete beyond pool.max.
import { poolMax, scaleInAction, type Group } from "../model/rules.ts";
import { destinyOf, RESUME_FAILED, type Classified } from "./destiny.ts";
import { isBooted, isProtected } from "../model/membership.ts";
import { parkMarkOf, tierOf } from "./parking.ts";
import type { Desired, Notice, ObservedServer, ResumeAction, Step } from "../model/types.ts";

/*
 * The parking orders (the scale-in victim order for deletes is in plan.ts):
 *   park:   servers started by hand while parked ("woken", manualChanges enforce) first; then the highest
 *           novascale:tier first; then the group's scaleIn.order on `created`; ties by id.
 *   resume: servers whose last resume failed (resume-failed) last; then the lowest novascale:tier first; then the quickest to come back (SHUTOFF, SHELVED,
 *           SHELVED_OFFLOADED); then the oldest `created`; ties by id.
 *   pool:   beyond pool.max, the oldest `created` parked member is deleted first; ties by id.
 * A protected server is never parked and never deleted; only ACTIVE servers with no task are parked.
 * A server novascale did not boot (no boot intent marker, not adopted) is never deleted: a victim beyond
 * the pool's room is parked anyway (pool.max bounds what novascale may delete), and the pool cap deletes
 * only parked servers novascale booted.
 */
const RESUME_SPEED: Readonly<Record<string, number>> = { SHUTOFF: 0, SHELVED: 1, SHELVED_OFFLOADED: 2 };

function createdMs(server: ObservedServer): number {
  const ms = Date.parse(server.created);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

function byId(a: Classified, b: Classified): number {
  return a.server.id < b.server.id ? -1 : a.server.id > b.server.id ? 1 : 0;
}

function byCreated(a: Classified, b: Classified, newestFirst = false): number {
  const [ca, cb] = [createdMs(a.server), createdMs(b.server)];
  if (ca === cb) return 0;
  if (ca === Number.POSITIVE_INFINITY) return 1;
  if (cb === Number.POSITIVE_INFINITY) return -1;
  return newestFirst ? cb - ca : ca - cb;
}

export function compareParkVictims(order: "oldest-first" | "newest-first"): (a: Classified, b: Classified) => number {
  return (a, b) =>
    Number(b.destiny === "woken") - Number(a.destiny === "woken") || tierOf(b.server) - tierOf(a.server) || byCreated(a, b, order === "newest-first") || byId(a, b);
}

export function compareResumes(a: Classified, b: Classified): number {
  const speed = (c: Classified) => RESUME_SPEED[c.server.status.toUpperCase()] ?? 3;
  // A server whose last resume failed (no host) is retried after every other parked one.
  const failed = (c: Classified) => Number(c.why.startsWith(RESUME_FAILED));
  return failed(a) - failed(b) || tierOf(a.server) - tierOf(b.server) || speed(a) - speed(b) || byCreated(a, b) || byId(a, b);
}

export function comparePool(a: Classified, b: Classified): number {
  return byCreated(a, b) || byId(a, b);
}

/** The action that brings a parked server back. */
export function resumeActionFor(server: ObservedServer): ResumeAction {
  return server.status.toUpperCase() === "SHUTOFF" ? "start" : "unshelve";
}

export interface ParkingPlanInput {
  group: Group;
  desired: Desired;
  classified: readonly Classified[];
  mayDelete: boolean;
  desiredText: string;
  /** Servers the operator adopted (see PlanInput.adopted): they count as booted by novascale. */
  adopted?: ReadonlySet<string>;
}

/**
 * Scale-out: resumes up to `missing` parked members (resume order); the rest is left to boots.
 * Returns the steps and how many are still missing after them.
 */
export function planResumes(input: ParkingPlanInput, missing: number): { steps: Step[]; stillMissing: number } {
  const { group, classified, desiredText } = input;
  const parked = classified.filter((c) => c.destiny === "parked").sort(compareResumes);
  const chosen = parked.slice(0, Math.max(0, missing));
  const steps = chosen.map((c, i): Step => {
    const action = resumeActionFor(c.server);
    const offloaded = c.server.status.toUpperCase() === "SHELVED_OFFLOADED";
    const step: Step = {
      kind: "resume",
      group: group.name,
      serverId: c.server.id,
      serverName: c.server.name,
      action,
      takesQuota: offloaded,
      reason: `scale out: ${desiredText}; resume ${i + 1} of ${chosen.length} parked before booting: ${c.server.name} (${c.why}, tier ${tierOf(c.server)}) by ${action}`,
    };
    if (offloaded && c.server.flavor !== undefined) step.flavor = c.server.flavor;
    return step;
  });
  return { steps, stillMissing: missing - chosen.length };
}

/** Whether a running member may be parked now (see manualChanges in the destiny table). */
function parkable(c: Classified, group: Group, desired: Desired): boolean {
  if (isProtected(c.server)) return false;
  if (c.server.status.toUpperCase() !== "ACTIVE" || (c.server.taskState ?? "") !== "") return false;
  if (c.destiny === "count") return true;
  if (c.destiny !== "woken") return false;
  if (group.rules.manualChanges === "enforce") return true;
  // respect: a server started by hand stays up until the deciding rule changes after it was parked. A park
  // Nova did not confirm (a 5xx, no answer) that is ACTIVE did not take: it was never started by hand, so it is retried.
  const mark = parkMarkOf(c.server);
  if (mark?.unconfirmed === true) return true;
  return mark !== undefined && desired.since !== undefined && Date.parse(desired.since) > mark.at.getTime();
}

/** Woken servers manualChanges "respect" keeps up (for a notice). */
export function respectedWoken(input: Pick<ParkingPlanInput, "group" | "desired" | "classified">): Classified[] {
  return input.classified.filter((c) => c.destiny === "woken" && !isProtected(c.server) && !parkable(c, input.group, input.desired));
}

/**
 * Scale-in for a group that parks: parks `excess` running members (park order). An elastic group parks
 * only while its pool has room (pool.max, counting members parked or parking now); the other victims are
 * deleted. Then, when the pool is over pool.max (e.g. it was lowered), the oldest parked members are deleted.
 */
export function planParks(input: ParkingPlanInput, excess: number, notices: Notice[]): Step[] {
  const { group, classified, desired, desiredText, mayDelete } = input;
  const { rules } = group;
  const power = rules.mode === "power";
  const chosen = scaleInAction(rules);
  const action: "shelve" | "stop" = chosen === "shelve" ? "shelve" : "stop";
  const victims = classified.filter((c) => parkable(c, group, desired)).sort(compareParkVictims(rules.scaleIn.order)).slice(0, Math.max(0, excess));
  const inPool = classified.filter((c) => c.destiny === "parked" || c.destiny === "parking").length;
  let room = power ? Number.POSITIVE_INFINITY : poolMax(rules) - inPool;
  const steps: Step[] = [];
  victims.forEach((c, i) => {
    const what = `scale in: ${desiredText}; victim ${i + 1} of ${excess}: ${c.server.name} (${c.why}, tier ${tierOf(c.server)}, created ${c.server.created}, ${rules.scaleIn.order})`;
    const booted = isBooted(c.server, input.adopted);
    if (room > 0 || !booted) {
      room -= 1;
      const beyond = room < 0 ? `; parked beyond pool.max ${poolMax(rules)}: novascale did not boot it, so it is never deleted` : "";
      steps.push({ kind: "park", group: group.name, serverId: c.server.id, serverName: c.server.name, action, reason: `${what}: ${action} (parked, not counted)${beyond}` });
    } else if (mayDelete) {
      steps.push({ kind: "delete", group: group.name, serverId: c.server.id, serverName: c.server.name, reason: `${what}: deleted, the pool is full (pool.max ${poolMax(rules)})` });
    }
  });
  if (victims.length < excess) {
    const kept = respectedWoken(input).length;
    const why = kept > 0 ? `; ${kept} of them started by hand since they were parked stay up until desired changes (manualChanges respect)` : "";
    notices.push({
      level: "warning",
      code: "scale-in-blocked",
      message: `${excess - victims.length} more server(s) should be parked, but the rest are protected, busy or not running${why}: left alone`,
    });
  }
  return steps;
}

/**
 * Deletes the oldest parked members while an elastic group's pool is over pool.max after this plan's
 * parks and resumes (e.g. pool.max was lowered, or scaleIn.action went back to delete: then the pool is 0).
 */
export function planPoolCap(input: ParkingPlanInput, planned: readonly Step[]): Step[] {
  const { group } = input;
  if (!input.mayDelete || group.rules.mode === "power") return [];
  const resumed = new Set(planned.flatMap((s) => (s.kind === "resume" ? [s.serverId] : [])));
  const parks = planned.filter((s) => s.kind === "park").length;
  const inPool = input.classified.filter((c) => c.destiny === "parked" || c.destiny === "parking").length;
  const cap = poolMax(group.rules);
  const over = inPool - resumed.size + parks - cap;
  if (over <= 0) return [];
  // Only servers novascale booted: an operator's parked server stays parked whatever the cap.
  const parked = input.classified.filter((c) => c.destiny === "parked" && !resumed.has(c.server.id) && !isProtected(c.server) && isBooted(c.server, input.adopted)).sort(comparePool);
  return parked.slice(0, over).map((c, i) => ({
    kind: "delete" as const,
    group: group.name,
    serverId: c.server.id,
    serverName: c.server.name,
    reason: `pool over pool.max ${cap}: delete ${i + 1} of ${over} parked, oldest first: ${c.server.name} (${c.why}, created ${c.server.created})`,
  }));
}

/** Members novascale resumed that are ACTIVE again but still carry the park mark: the mark is removed (an "unmark" step). */
export function planUnmarks(input: Pick<ParkingPlanInput, "group" | "classified">): Step[] {
  return input.classified
    .filter((c) => c.destiny === "count" && parkMarkOf(c.server) !== undefined && c.why.startsWith("ACTIVE, resumed by novascale"))
    .map((c) => ({ kind: "unmark" as const, group: input.group.name, serverId: c.server.id, serverName: c.server.name, reason: `back in service: ${c.server.name} is ${c.why}; its park mark is removed` }));
}

/** The group's members that are parked or on their way there (what the ledger of parked server-hours follows). */
export function parkedMembers(group: Group, members: readonly ObservedServer[], now: Date, resuming: Readonly<Record<string, string>> = {}): Classified[] {
  const at = (id: string) => (resuming[id] === undefined ? undefined : new Date(resuming[id]));
  return members.map((s) => destinyOf(s, group.rules, now, 0, at(s.id))).filter((c) => c.destiny === "parked" || c.destiny === "parking");
}
