// Safety rails applied to a plan: per-tick boot and delete caps, and boots trimmed to the quota headroom.
import type { Notice, QuotaHeadroom, Step } from "./types.ts";

/** Absolute limits (GET /limits); null where the cloud reports no limit (-1) or omits it. */
export interface AbsoluteLimits {
  maxTotalInstances: number | null;
  totalInstancesUsed: number;
  maxTotalCores: number | null;
  totalCoresUsed: number;
  maxTotalRAMSize: number | null;
  totalRAMUsed: number;
  maxServerMeta: number | null;
  maxImageMeta: number | null;
}

export interface LimitInput {
  maxBootsPerTick: number;
  maxDeletesPerTick: number;
  /** Headroom from GET /limits; absent when it could not be read (then only the caps apply). */
  quota?: QuotaHeadroom;
  /** The group's flavor, to turn core and RAM headroom into a server count. */
  flavor?: { vcpus: number; ramMB: number };
  /** The group's `max` and how many of its servers exist (see GroupCeiling): boots never take it past max. */
  ceiling: GroupCeiling;
}

/**
 * Never more than `max` of a group's servers exist at once, in service or on their way: `present` counts
 * every member that is not already going away (core/plan.ts PRESENT), broken ones included, because a
 * broken server whose delete has not been sent still occupies a place (and the quota).
 */
export interface GroupCeiling {
  max: number;
  present: number;
}

/**
 * How many boots fit under the group's max once `deleted` of the present servers are gone. A delete
 * counts only once it is sent (limitSteps) or, in the executor, once Nova accepted it.
 */
export function bootRoom(ceiling: GroupCeiling, deleted: number): number {
  return Math.max(0, ceiling.max - (ceiling.present - deleted));
}

/** Cuts boots to `room` (see bootRoom) and says why the rest wait. Other steps pass through. */
export function capBootsAtMax(steps: readonly Step[], room: number, max: number): { steps: Step[]; notices: Notice[] } {
  const out: Step[] = [];
  let left = Math.max(0, room);
  let held = 0;
  for (const step of steps) {
    if (step.kind !== "boot") {
      out.push(step);
      continue;
    }
    const count = Math.min(step.count, left);
    left -= count;
    held += step.count - count;
    if (count === step.count) out.push(step);
    else if (count > 0) out.push({ ...step, count, reason: `${step.reason}; ${count} now, the rest once broken servers are gone (max ${max})` });
  }
  const notices: Notice[] =
    held === 0
      ? []
      : [{ level: "info", code: "boot-at-max", message: `${held} boot(s) wait until the broken servers they replace are deleted: never more than max ${max} servers at once` }];
  return { steps: out, notices };
}

/** What is left under each absolute limit (null: unlimited). Never negative: an over-quota project has 0. */
export function quotaHeadroom(limits: AbsoluteLimits): QuotaHeadroom {
  const left = (max: number | null, used: number): number | null => (max === null ? null : Math.max(0, max - used));
  return {
    instances: left(limits.maxTotalInstances, limits.totalInstancesUsed),
    cores: left(limits.maxTotalCores, limits.totalCoresUsed),
    ramMB: left(limits.maxTotalRAMSize, limits.totalRAMUsed),
  };
}

/** How many servers of this flavor fit in the headroom, and which limit binds (undefined: no limit binds). */
export function serversThatFit(quota: QuotaHeadroom, flavor?: { vcpus: number; ramMB: number }): { fits: number; binding?: string } {
  const candidates: Array<[string, number]> = [];
  if (quota.instances !== null) candidates.push(["instances", quota.instances]);
  if (flavor !== undefined && quota.cores !== null && flavor.vcpus > 0) candidates.push(["cores", Math.floor(quota.cores / flavor.vcpus)]);
  if (flavor !== undefined && quota.ramMB !== null && flavor.ramMB > 0) candidates.push(["ram", Math.floor(quota.ramMB / flavor.ramMB)]);
  let best: [string, number] | undefined;
  for (const c of candidates) if (best === undefined || c[1] < best[1]) best = c;
  return best === undefined ? { fits: Number.POSITIVE_INFINITY } : { fits: best[1], binding: best[0] };
}

/**
 * Caps a plan's boots and deletes for one tick. Deletes keep the plan's order (broken servers, then
 * victims in order), so the cap drops the least urgent. Boots are cut to the per-tick cap, then to
 * what the quota holds (deletes in the same tick are not counted as freeing quota: Nova frees it
 * only when the delete completes). Last, boots are cut so that the servers present, less the deletes
 * kept, plus the boots never pass the group's max (a replacement waits for its broken server's delete).
 * Other steps pass through unchanged.
 */
export function limitSteps(steps: Step[], input: LimitInput): { steps: Step[]; notices: Notice[] } {
  const notices: Notice[] = [];
  const out: Step[] = [];
  let deletesLeft = Math.max(0, input.maxDeletesPerTick);
  let bootsLeft = Math.max(0, input.maxBootsPerTick);
  const fit = input.quota === undefined ? { fits: Number.POSITIVE_INFINITY } : serversThatFit(input.quota, input.flavor);
  let quotaLeft = fit.fits;
  let deletesDropped = 0;
  let bootsCapped = 0;
  let bootsOverQuota = 0;

  for (const step of steps) {
    if (step.kind === "delete") {
      if (deletesLeft > 0) {
        out.push(step);
        deletesLeft -= 1;
      } else {
        deletesDropped += 1;
      }
    } else if (step.kind === "boot") {
      const underCap = Math.min(step.count, bootsLeft);
      bootsCapped += step.count - underCap;
      const underQuota = Math.min(underCap, quotaLeft);
      bootsOverQuota += underCap - underQuota;
      bootsLeft -= underQuota;
      quotaLeft -= underQuota;
      if (underQuota > 0) {
        const notes: string[] = [];
        if (underQuota < step.count) notes.push(`${underQuota} of ${step.count} this tick`);
        out.push(notes.length === 0 ? step : { ...step, count: underQuota, reason: `${step.reason}; limited to ${notes.join(", ")}` });
      }
    } else {
      out.push(step);
    }
  }

  if (deletesDropped > 0) {
    notices.push({ level: "info", code: "delete-capped", message: `${deletesDropped} delete(s) wait for the next tick (maxDeletesPerTick ${input.maxDeletesPerTick})` });
  }
  if (bootsCapped > 0) {
    notices.push({ level: "info", code: "boot-capped", message: `${bootsCapped} boot(s) wait for the next tick (maxBootsPerTick ${input.maxBootsPerTick})` });
  }
  if (bootsOverQuota > 0) {
    notices.push({
      level: "warning",
      code: "capacity-limited",
      message: `${bootsOverQuota} boot(s) do not fit the project's quota (${fit.binding ?? "quota"} exhausted); booting what fits`,
    });
  }
  const kept = out.filter((s) => s.kind === "delete").length;
  const atMax = capBootsAtMax(out, bootRoom(input.ceiling, kept), input.ceiling.max);
  return { steps: atMax.steps, notices: [...notices, ...atMax.notices] };
}
