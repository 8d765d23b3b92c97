// A tiny pure simulation of a fault-free cloud for property tests: apply steps, BUILD turns ACTIVE on the next tick.
import type { Group, Override } from "../../src/config/group.ts";
import { desiredCount } from "../../src/core/desired.ts";
import { limitSteps } from "../../src/core/limits.ts";
import { GROUP_KEY, isMember } from "../../src/core/membership.ts";
import { plan, type PlanResult } from "../../src/core/plan.ts";
import type { ObservedServer, Step } from "../../src/core/types.ts";

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
  const { steps } = limitSteps(result.steps, { maxBootsPerTick: group.rules.limits.maxBootsPerTick, maxDeletesPerTick: group.rules.limits.maxDeletesPerTick });
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
