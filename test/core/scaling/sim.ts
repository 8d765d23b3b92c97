// A tiny pure simulation of a fault-free cloud for property tests: apply steps, BUILD turns ACTIVE on the next tick.
import type { Group, Override } from "../../../src/config/group.ts";
import { desiredCount } from "../../../src/core/schedule/desired.ts";
import { bootRoom, capBootsAtMax, limitSteps } from "../../../src/core/scaling/limits.ts";
import { holdBoots, settleLostBoots, type LostBoot } from "../../../src/core/scaling/lost-boots.ts";
import { BOOT_INTENT_KEY, GROUP_KEY, bootIntentMarker, isMember } from "../../../src/core/model/membership.ts";
import { plan, type PlanResult } from "../../../src/core/scaling/plan.ts";
import type { Desired, ObservedServer, Step } from "../../../src/core/model/types.ts";

export interface TickOutcome {
  result: PlanResult;
  steps: Step[];
  servers: ObservedServer[];
}

let booted = 0;

/**
 * One tick as the reconciler runs it (desired -> plan -> limit), applied to the simulated cloud.
 * Servers that were in BUILD when the tick started are ACTIVE by the time it lists them (fault-free).
 */
export function tick(cloud: readonly ObservedServer[], group: Group, now: Date, override?: Override): TickOutcome {
  const listed = cloud.map((s) => (s.status === "BUILD" ? { ...s, status: "ACTIVE" } : s));
  const desired = desiredCount(group.rules, override, now);
  const result = plan({ group, desired, members: listed.filter((s) => isMember(s, group.name)), now, listingComplete: true });
  const { steps } = limitSteps(result.steps, {
    maxBootsPerTick: group.rules.limits.maxBootsPerTick,
    maxDeletesPerTick: group.rules.limits.maxDeletesPerTick,
    ceiling: { max: group.rules.max, present: result.present },
  });
  return { result, steps, servers: apply(listed, steps, now) };
}

/** The cloud after the steps: deleted servers vanish, booted ones appear in BUILD with the group tag. */
export function apply(cloud: readonly ObservedServer[], steps: readonly Step[], now: Date): ObservedServer[] {
  const deleted = new Set(steps.flatMap((s) => (s.kind === "delete" ? [s.serverId] : [])));
  const next = cloud.filter((s) => !deleted.has(s.id));
  for (const step of steps) {
    if (step.kind !== "boot") continue;
    for (let i = 0; i < step.count; i += 1) {
      booted += 1;
      next.push({ id: `sim-${booted}`, name: `${step.group}-sim-${booted}`, status: "BUILD", created: now.toISOString(), metadata: { [GROUP_KEY]: step.group } });
    }
  }
  return next;
}

/** What goes wrong around one tick of a faulty history. */
export interface TickFaults {
  /** Members (by index in the listing) that turn ERROR just before the tick lists them. */
  breaks: readonly number[];
  /** Deletes (by their order in the tick's steps) that Nova refuses: the server stays. */
  failedDeletes: readonly number[];
  /** Whether BUILD servers finish before the listing (false: they stay in BUILD a tick longer). */
  buildsFinish: boolean;
}

/**
 * One tick against a cloud that breaks servers and refuses deletes, executed as the pipeline does:
 * desired -> plan -> limitSteps, then deletes, then boots cut to the room left by the deletes Nova took.
 */
export function faultyTick(cloud: readonly ObservedServer[], group: Group, desired: Desired, now: Date, faults: TickFaults): TickOutcome {
  const broken = new Set(faults.breaks);
  const listed = cloud.map((s, i) => {
    if (broken.has(i)) return { ...s, status: "ERROR" };
    return s.status === "BUILD" && faults.buildsFinish ? { ...s, status: "ACTIVE" } : s;
  });
  const members = listed.filter((s) => isMember(s, group.name));
  const result = plan({ group, desired, members, now, listingComplete: true });
  const ceiling = { max: group.rules.max, present: result.present };
  const limited = limitSteps(result.steps, { maxBootsPerTick: group.rules.limits.maxBootsPerTick, maxDeletesPerTick: group.rules.limits.maxDeletesPerTick, ceiling });
  const refused = new Set(faults.failedDeletes);
  const deletes = limited.steps.filter((s) => s.kind === "delete");
  const done = deletes.filter((_, i) => !refused.has(i));
  const boots = capBootsAtMax(limited.steps, bootRoom(ceiling, done.length), ceiling.max).steps.filter((s) => s.kind === "boot");
  const sent = [...done, ...boots];
  return { result, steps: sent, servers: apply(listed, sent, now) };
}

/** A slow cloud: each server is listed only from `listedFrom` (ms) on; the group's lost boots as its coordinator keeps them. */
export interface SlowCloud {
  servers: Array<ObservedServer & { listedFrom: number }>;
  lost: LostBoot[];
}

/** How the cloud answers this reconcile's boot: lost or not, and how long its servers take to be listed. */
export interface BootAnswer {
  lost: boolean;
  registerAfterMs: number;
}

/**
 * One reconcile as the group's coordinator runs it on a slow cloud: list what is registered, settle lost
 * boots against it, plan, limit, hold boots while a lost boot is pending; then send the boot.
 */
export function slowCloudReconcile(cloud: SlowCloud, group: Group, desired: Desired, now: Date, answer: BootAnswer): SlowCloud {
  const listed = cloud.servers.filter((s) => s.listedFrom <= now.getTime());
  const { pending } = settleLostBoots(cloud.lost, listed, now);
  const result = plan({ group, desired, members: listed, now, listingComplete: true });
  const ceiling = { max: group.rules.max, present: result.present };
  const limited = limitSteps(result.steps, { maxBootsPerTick: group.rules.limits.maxBootsPerTick, maxDeletesPerTick: group.rules.limits.maxDeletesPerTick, ceiling });
  const steps = holdBoots(limited.steps, pending).steps;
  const deleted = new Set(steps.flatMap((s) => (s.kind === "delete" ? [s.serverId] : [])));
  const servers = cloud.servers.filter((s) => !deleted.has(s.id));
  const lost = [...pending];
  for (const step of steps) {
    if (step.kind !== "boot") continue;
    booted += 1;
    const intent = bootIntentMarker(`b${booted}`, now);
    const listedFrom = now.getTime() + (answer.lost ? answer.registerAfterMs : 0);
    for (let i = 0; i < step.count; i += 1) {
      const id = `slow-${booted}-${i}`;
      servers.push({ id, name: id, status: "ACTIVE", created: now.toISOString(), metadata: { [GROUP_KEY]: group.name, [BOOT_INTENT_KEY]: intent }, listedFrom });
    }
    if (answer.lost) lost.push({ intent, count: step.count, at: now.toISOString() });
  }
  return { servers, lost };
}
