// Safety rails applied to a plan: per-tick boot and delete caps, and boots trimmed to the quota headroom.
import type { Notice, QuotaHeadroom, Step } from "../model/types.ts";

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
 * only when the delete completes). Parking shares the caps: a park counts as a delete (a server taken
 * down), a resume as a boot (a server brought up). A resume from SHELVED_OFFLOADED takes cores and RAM
 * again (not an instance: a shelved server still holds one), so it is checked against the quota like a
 * boot, with its own size when the listing gave it; resumes come before boots in a plan, so they go first.
 * Resumes never take the servers present (broken ones included, deletes of this tick not subtracted: Nova
 * may refuse them) past max. Last, boots are cut so that the servers present, less the deletes kept, plus the resumes and boots
 * never pass the group's max (a replacement waits for its broken server's delete).
 * Other steps pass through unchanged.
 */
export function limitSteps(steps: Step[], input: LimitInput): { steps: Step[]; notices: Notice[] } {
  const notices: Notice[] = [];
  const out: Step[] = [];
  let deletesLeft = Math.max(0, input.maxDeletesPerTick);
  let bootsLeft = Math.max(0, input.maxBootsPerTick);
  const left = input.quota === undefined ? undefined : { ...input.quota };
  let binding: string | undefined;
  let deletesDropped = 0;
  let bootsCapped = 0;
  let bootsOverQuota = 0;
  let resumesAtMax = 0;
  let resumeRoom = Math.max(0, input.ceiling.max - input.ceiling.present);

  /** How many servers of `size` fit what is left, taking an instance each unless `instances` is false. */
  const fitting = (size: { vcpus: number; ramMB: number } | undefined, instances: boolean, wanted: number): number => {
    if (left === undefined) return Number.POSITIVE_INFINITY;
    const fit = serversThatFit(instances ? left : { ...left, instances: null }, size);
    if (fit.fits < wanted) binding ??= fit.binding;
    return fit.fits;
  };
  const take = (n: number, size: { vcpus: number; ramMB: number } | undefined, instances: boolean): void => {
    if (left === undefined) return;
    if (instances && left.instances !== null) left.instances -= n;
    if (size !== undefined && left.cores !== null) left.cores -= n * size.vcpus;
    if (size !== undefined && left.ramMB !== null) left.ramMB -= n * size.ramMB;
  };

  for (const step of steps) {
    if (step.kind === "delete" || step.kind === "park") {
      if (deletesLeft > 0) {
        out.push(step);
        deletesLeft -= 1;
      } else {
        deletesDropped += 1;
      }
    } else if (step.kind === "resume") {
      // Under max before anything else: every member that stays counts (a protected broken one, one whose
      // delete Nova may yet refuse), so a resume never takes the group to max+1 (deletes free no room for it).
      if (resumeRoom === 0) {
        resumesAtMax += 1;
        continue;
      }
      if (bootsLeft === 0) {
        bootsCapped += 1;
        continue;
      }
      const size = step.flavor ?? input.flavor;
      if (step.takesQuota && fitting(size, false, 1) < 1) {
        bootsOverQuota += 1;
        continue;
      }
      if (step.takesQuota) take(1, size, false);
      bootsLeft -= 1;
      resumeRoom -= 1;
      out.push(step);
    } else if (step.kind === "boot") {
      const underCap = Math.min(step.count, bootsLeft);
      bootsCapped += step.count - underCap;
      const underQuota = Math.min(underCap, fitting(input.flavor, true, underCap));
      bootsOverQuota += underCap - underQuota;
      bootsLeft -= underQuota;
      take(underQuota, input.flavor, true);
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
    notices.push({ level: "info", code: "delete-capped", message: `${deletesDropped} delete(s) or park(s) wait for the next tick (maxDeletesPerTick ${input.maxDeletesPerTick})` });
  }
  if (bootsCapped > 0) {
    notices.push({ level: "info", code: "boot-capped", message: `${bootsCapped} boot(s) or resume(s) wait for the next tick (maxBootsPerTick ${input.maxBootsPerTick})` });
  }
  if (bootsOverQuota > 0) {
    notices.push({
      level: "warning",
      code: "capacity-limited",
      message: `${bootsOverQuota} boot(s) or unshelve(s) do not fit the project's quota (${binding ?? "quota"} exhausted); starting what fits`,
    });
  }
  if (resumesAtMax > 0) {
    notices.push({ level: "info", code: "resume-at-max", message: `${resumesAtMax} resume(s) wait: ${input.ceiling.present} member(s) stay (broken ones included), and never more than max ${input.ceiling.max} at once` });
  }
  const kept = out.filter((s) => s.kind === "delete").length;
  const resumes = out.filter((s) => s.kind === "resume").length;
  const atMax = capBootsAtMax(out, bootRoom(input.ceiling, kept) - resumes, input.ceiling.max);
  return { steps: atMax.steps, notices: [...notices, ...atMax.notices] };
}
