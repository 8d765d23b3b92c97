// Why a plan boots fewer servers than are missing: one reason per cause, as data, for the dry run (GET /v1/groups/{name}/plan).
import type { Desired, Notice, Step } from "../model/types.ts";
import { backoffHolds, backoffMessage, type BootBackoff } from "./boot-backoff.ts";
import type { AbsoluteLimits } from "./limits.ts";

export type NoBootCode =
  | "paused"
  | "boot-backoff"
  | "boot-blocked"
  | "references"
  | "quota"
  | "max"
  | "budget-deferred"
  | "lost-boot-hold"
  | "resuming-parked"
  | "max-boots-per-tick"
  | "power-group";

export interface NoBootReason {
  code: NoBootCode;
  message: string;
}

/** What the plan decided and what held it back: the dry run's record, the group's state and the readings it made. */
export interface NoBootInput {
  now: Date;
  desired: Desired;
  /** Members counted toward desired (ACTIVE, BUILD, transitional). */
  counted: number;
  /** The plan after every rail (caps, quota, max, holds): its boot and resume steps are what will start. */
  steps: readonly Step[];
  /** The plan's notices (their codes say which rail cut boots). */
  notices: readonly Notice[];
  max: number;
  maxBootsPerTick: number;
  pause?: { by: string; reason?: string } | null | undefined;
  /** The boot block in force for these rules (Nova's 400, or metadata over the cloud's limit). */
  bootBlock?: { reason: string } | null | undefined;
  bootBackoff?: BootBackoff | null | undefined;
  /** /limits as read for this plan (absent: not read, e.g. nothing would boot anyway). */
  limits?: AbsoluteLimits | undefined;
  /** The flavor boots would use, to say how much each server takes. */
  flavor?: { name: string; vcpus: number; ramMB: number } | undefined;
  /** The last tick's deferral (its budget ran short), when it is recent enough to repeat. */
  deferred?: { steps: number; message: string } | null | undefined;
}

function noticeOf(notices: readonly Notice[], code: string): Notice | undefined {
  return notices.find((n) => n.code === code);
}

/** "instances 10 of 10 used (maxTotalInstances)"-style parts for every limit that is set, binding ones first. */
function quotaMessage(limits: AbsoluteLimits, flavor: NoBootInput["flavor"]): string {
  const parts: Array<{ full: boolean; text: string }> = [];
  const add = (label: string, key: string, used: number, max: number | null, per: number | undefined, unit = "") => {
    if (max === null) return;
    const left = Math.max(0, max - used);
    const full = per === undefined ? left < 1 : left < per;
    parts.push({ full, text: `${label} ${used}${unit} of ${max}${unit} used (${key})${per === undefined ? "" : `, ${per}${unit} per server`}` });
  };
  add("instances", "maxTotalInstances", limits.totalInstancesUsed, limits.maxTotalInstances, undefined);
  add("cores", "maxTotalCores", limits.totalCoresUsed, limits.maxTotalCores, flavor?.vcpus);
  add("RAM", "maxTotalRAMSize", limits.totalRAMUsed, limits.maxTotalRAMSize, flavor?.ramMB, " MB");
  const ordered = [...parts.filter((p) => p.full), ...parts.filter((p) => !p.full)].map((p) => p.text);
  const size = flavor === undefined ? "" : ` for flavor ${flavor.name}`;
  return `the project's quota is exhausted${size}: ${ordered.join("; ")}`;
}

/**
 * Empty unless the group is paused or boots (and resumes) planned fall short of desired - counted.
 * Causes are listed in the order the pipeline applies them; each one present gets one reason. A cause
 * that masks later ones (a boot block drops boots before quota is read) leaves those unsaid, as the
 * tick would: fixing it shows the next one.
 */
export function noBootReasons(input: NoBootInput): NoBootReason[] {
  const reasons: NoBootReason[] = [];
  const missing = input.desired.value - input.counted;
  const booting = input.steps.reduce((n, s) => n + (s.kind === "boot" ? s.count : 0), 0);
  const resuming = input.steps.filter((s) => s.kind === "resume").length;
  const paused = input.desired.source === "paused";
  if (!paused && booting + resuming >= missing) return reasons;

  if (paused) {
    const who = input.pause?.by ?? "the rules (paused: true)";
    const why = input.pause?.reason === undefined ? "" : ` (${input.pause.reason})`;
    reasons.push({ code: "paused", message: `paused by ${who}${why}: no boots, deletes or parking until resumed` });
    return reasons;
  }
  const power = noticeOf(input.notices, "power-short");
  if (power !== undefined) reasons.push({ code: "power-group", message: power.message });
  if (input.bootBlock) reasons.push({ code: "boot-blocked", message: `boots blocked by a configuration error until the rules change or boots are retried: ${input.bootBlock.reason}` });
  if (backoffHolds(input.bootBackoff ?? undefined, input.now)) reasons.push({ code: "boot-backoff", message: backoffMessage(input.bootBackoff!) });
  const held = noticeOf(input.notices, "boot-held");
  if (held !== undefined) reasons.push({ code: "lost-boot-hold", message: held.message });
  const skipped = noticeOf(input.notices, "boot-skipped");
  if (skipped !== undefined) reasons.push({ code: "references", message: skipped.message });
  if (resuming > 0) reasons.push({ code: "resuming-parked", message: `${resuming} parked server(s) are resumed instead of booting new ones` });
  const capped = noticeOf(input.notices, "boot-capped");
  if (capped !== undefined) reasons.push({ code: "max-boots-per-tick", message: `maxBootsPerTick ${input.maxBootsPerTick} reached this tick (resumes share it): ${capped.message}` });
  const quota = noticeOf(input.notices, "capacity-limited");
  if (quota !== undefined) reasons.push({ code: "quota", message: input.limits === undefined ? quota.message : quotaMessage(input.limits, input.flavor) });
  const atMax = noticeOf(input.notices, "boot-at-max") ?? noticeOf(input.notices, "resume-at-max");
  if (atMax !== undefined) reasons.push({ code: "max", message: `max ${input.max} reached: ${atMax.message}` });
  if (input.deferred) reasons.push({ code: "budget-deferred", message: `the last tick's budget ran short: ${input.deferred.message}` });
  return reasons;
}
