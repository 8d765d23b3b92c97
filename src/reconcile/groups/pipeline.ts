// One group's reconcile: gather -> plan -> limit -> execute (steps in execute-steps.ts) -> record. Runs inside the group's Durable Object.
import type { Override } from "../../config/group.ts";
import { askFor, fitSteps } from "../../core/scaling/budget.ts";
import { desiredCount } from "../../core/schedule/desired.ts";
import type { LiveSignal } from "../../core/schedule/signals.ts";
import { bootRoom, capBootsAtMax, limitSteps, quotaHeadroom, type GroupCeiling } from "../../core/scaling/limits.ts";
import { checkMetadataFits } from "../../core/model/metadata.ts";
import { isMember } from "../../core/model/membership.ts";
import { bootHoldNotice, holdBoots, type LostBoot } from "../../core/scaling/lost-boots.ts";
import { plan } from "../../core/scaling/plan.ts";
import { backoffHolds, backoffMessage, type BootBackoff, type BootFailure } from "../../core/scaling/boot-backoff.ts";
import { backoffAfterBoots, backoffBeforePlan, type Stamp } from "./pipeline-backoff.ts";
import type { Desired, Notice, ObservedServer, QuotaHeadroom, Step } from "../../core/model/types.ts";
import type { ResolvedFlavor, ResolvedImage } from "../../openstack/cloud.ts";
import { notSentReason, type BootReads, type CloudPort, type Reservation } from "../gateway/gateway.ts";
import { DELETE_CONCURRENCY, executeBoot, executeDelete, mapBounded, type BootPlanContext } from "./execute-steps.ts";
import { withFaults } from "./faults.ts";
import type { RefreshState } from "../../core/scaling/refresh.ts";
import { mergeSteps, pinnedRules, planRefreshView, refreshTick, refreshView, type RefreshRequest } from "./refresh.ts";
import { marksAfterBoots, planFlavor, quotaRefusalBefore, withFlavorReason } from "./pipeline-flavors.ts";
import type { FlavorChoice, FlavorMark } from "../../core/scaling/flavors.ts";
import { executePark, executeResume, executeUnmark, parkingActivity } from "./parking.ts";
import type {
  ActivityEntry,
  BootBlock,
  Deferral,
  ErrorInfo,
  GroupHealth,
  PauseState,
  PlanPreview,
  PlanRefresh,
  StepResult,
  StoredGroup,
  TickRecord,
} from "../shared/service.ts";

export { DELETE_CONCURRENCY } from "./execute-steps.ts";

/** The group's runtime state held by its Durable Object. */
export interface RuntimeState {
  override: Override | undefined;
  pause: PauseState | undefined;
  bootBlock: BootBlock | undefined;
  /** Earlier boots whose answer was lost and whose servers have not shown up yet: boots wait (core/lost-boots.ts). */
  pendingBoots?: readonly LostBoot[];
  /** Repeated boot failures: boots wait on the schedule in core/scaling/boot-backoff.ts. */
  bootBackoff?: BootBackoff | undefined;
  /** Lost boots this reconcile settled as having created nothing: boot failures for the backoff. */
  failedLostBoots?: readonly BootFailure[];
  /** The receivers' live signals: they raise the desired count (core/schedule/signals.ts). */
  signals?: readonly LiveSignal[];
  /** The group's rolling refresh (core/scaling/refresh.ts) and a manual start waiting for this reconcile. */
  refresh?: RefreshState | undefined;
  refreshRequest?: RefreshRequest | undefined;
  /** Flavors marked unavailable by capacity or quota refusals (core/scaling/flavors.ts). */
  flavorMarks?: readonly FlavorMark[];
}

export type Listing = { ok: true; members: ObservedServer[] } | { ok: false; error: ErrorInfo };

export interface ReconcileInput {
  group: StoredGroup;
  now: Date;
  trigger: "cron" | "manual";
  author: string;
  state: RuntimeState;
  listing: Listing;
  cloud: CloudPort;
  /** A short unique id for this reconcile's boots (server names and the boot intent marker). */
  bootId: string;
  /** Only plan: resolve and read limits, but boot and delete nothing. */
  dryRun: boolean;
  /** The group's resume records (server id -> when novascale resumed it). */
  resuming?: Readonly<Record<string, string>>;
  /** Servers the operator adopted (the group's record): they count as booted by novascale (core/scaling/adoption.ts). */
  adopted?: readonly string[];
  /** The X-OpenStack-Request-Id of this tick's cloud calls, recorded on the record and on boots and deletes. */
  tickRequestId?: string;
}

export interface ReconcileOutput {
  record: TickRecord;
  /** New entries for the activity log, oldest first. */
  activity: ActivityEntry[];
  /** The boot block after this reconcile (undefined: none). */
  bootBlock: BootBlock | undefined;
  /** The boot backoff after this reconcile (undefined: none). */
  bootBackoff: BootBackoff | undefined;
  /** True when a boot or delete request went out (whatever its answer). */
  acted: boolean;
  /** The rolling refresh after this reconcile (undefined: none). */
  refresh?: RefreshState | undefined;
  /** The refresh as the dry run shows it (null: none). */
  refreshPlan?: PlanRefresh | null;
  /** The flavor marks after this reconcile (the same array as given when nothing changed). */
  flavorMarks: readonly FlavorMark[];
}

function bootBlockActive(block: BootBlock | undefined, etag: string): block is BootBlock {
  return block !== undefined && block.etag === etag;
}

function withoutBoots(steps: readonly Step[]): Step[] {
  return steps.filter((s) => s.kind !== "boot");
}

/**
 * Holds, through the gateway, the requests this group's actions need (after the per-tick caps) and keeps
 * the steps the tick's budget covers; the rest wait for the next tick, which serves this group first.
 */
async function claimBudget(input: ReconcileInput, steps: Step[], ceiling: GroupCeiling, choice: FlavorChoice | undefined): Promise<{ kept: Step[]; reservation: Reservation | undefined; deferred: Deferral | undefined }> {
  const { rules } = input.group;
  if (input.dryRun) return { kept: steps, reservation: undefined, deferred: undefined };
  // A blocked group, or one whose earlier boot is still unsettled, will not boot: holding requests for it would only starve the others.
  const noBoots =
    bootBlockActive(input.state.bootBlock, input.group.etag) || backoffHolds(input.state.bootBackoff, input.now) || bootHoldNotice(input.state.pendingBoots ?? []) !== undefined;
  const candidate = noBoots ? withoutBoots(steps) : steps;
  const caps = { maxBootsPerTick: rules.limits.maxBootsPerTick, maxDeletesPerTick: rules.limits.maxDeletesPerTick, ceiling };
  const ask = askFor(limitSteps(candidate, caps).steps, 0);
  if (ask.deletes + ask.boots === 0) return { kept: steps, reservation: undefined, deferred: undefined };
  const answer = await input.cloud.reserve({ deletes: ask.deletes, boots: ask.boots, image: rules.image, flavor: choice?.ref });
  const reservation = answer.ok ? answer.value : undefined;
  const grant = reservation ?? { deletes: 0, boots: 0 };
  const waiting = ask.deletes - grant.deletes + (ask.boots - grant.boots);
  const kept = waiting > 0 ? fitSteps(steps, grant).kept : steps;
  if (waiting === 0) return { kept, reservation, deferred: undefined };
  const reason = reservation?.short ?? "subrequests";
  const why = reason === "deadline" ? "the tick's time budget ran out" : "the tick's subrequest budget ran short";
  return { kept, reservation, deferred: { reason, steps: waiting, message: `${waiting} step(s) wait for the next tick, which serves this group first: ${why}` } };
}

function withoutBootsIfBlocked(input: ReconcileInput, steps: Step[], notices: Notice[], bootBlock: BootBlock | undefined): Step[] {
  if (steps.some((s) => s.kind === "boot") && bootBlockActive(bootBlock, input.group.etag)) {
    notices.push({ level: "error", code: "boot-blocked", message: `booting is stopped until the rules change: ${bootBlock.reason}` });
    return withoutBoots(steps);
  }
  if (steps.some((s) => s.kind === "boot") && backoffHolds(input.state.bootBackoff, input.now)) {
    notices.push({ level: "error", code: "boot-backoff", message: backoffMessage(input.state.bootBackoff) });
    return withoutBoots(steps);
  }
  return steps;
}

/**
 * Resolves what boots need (image, flavor, limits) and applies the per-tick caps and quota; /limits is
 * also read for unshelves from SHELVED_OFFLOADED, which take cores and RAM again like a boot.
 * Boots are dropped (with the reason recorded) when anything they need is missing.
 */
async function prepareSteps(
  input: ReconcileInput,
  planned: Step[],
  ceiling: GroupCeiling,
  notices: Notice[],
  errors: ErrorInfo[],
  choice: FlavorChoice | undefined,
  reads?: BootReads,
): Promise<{ steps: Step[]; boot: BootPlanContext | undefined; bootBlock: BootBlock | undefined; flavor?: ResolvedFlavor }> {
  const { group, cloud, now } = input;
  const { rules } = group;
  let bootBlock = input.state.bootBlock;
  let steps = withoutBootsIfBlocked(input, planned, notices, bootBlock);
  const caps = { maxBootsPerTick: rules.limits.maxBootsPerTick, maxDeletesPerTick: rules.limits.maxDeletesPerTick, ceiling };
  // A lost boot may still register its servers: booting now could double them.
  const held = holdBoots(steps, input.state.pendingBoots ?? []);
  if (held.notice !== undefined) notices.push(held.notice);
  steps = held.steps;
  const finish = (kept: Step[], quota: QuotaHeadroom | undefined, flavor: ResolvedFlavor | undefined) => {
    const limited = limitSteps(kept, { ...caps, ...(quota ? { quota } : {}), ...(flavor ? { flavor: { vcpus: flavor.vcpus, ramMB: flavor.ramMB } } : {}) });
    notices.push(...limited.notices);
    return limited.steps;
  };
  const unshelvesTakeQuota = steps.some((s) => s.kind === "resume" && s.takesQuota);
  if (!steps.some((s) => s.kind === "boot") && !unshelvesTakeQuota) return { steps: finish(steps, undefined, undefined), boot: undefined, bootBlock };

  let image: ResolvedImage | undefined;
  let flavor: ResolvedFlavor | undefined;
  if (steps.some((s) => s.kind === "boot")) {
    if (rules.image === undefined || choice === undefined) {
      // The schema requires both for elastic groups, and power groups never plan a boot: defensive only.
      notices.push({ level: "error", code: "boot-skipped", message: "not booting: the group has no image or flavor" });
      steps = withoutBoots(steps);
    } else {
      // The reservation already read them when it granted boots (one call back to the gateway instead of three).
      const [i, f] = reads !== undefined ? [reads.image, reads.flavor] : await Promise.all([cloud.resolveImage(rules.image), cloud.resolveFlavor(choice.ref)]);
      const missing = [i, f].flatMap((r) => (r.ok ? [] : [r.error]));
      if (!i.ok || !f.ok) {
        errors.push(...missing);
        notices.push({ level: "error", code: "boot-skipped", message: `not booting this tick: ${missing.map((e) => e.message).join("; ")}` });
        steps = withoutBoots(steps);
      } else {
        image = i.value;
        flavor = f.value;
      }
    }
  } else if (choice !== undefined && steps.some((s) => s.kind === "resume" && s.takesQuota && s.flavor === undefined)) {
    // The listing did not give the server's size (before 2.47): the group's flavor is what it was booted with
    // (with a list, the one boots take now: an estimate, Nova charges the real size).
    const f = await cloud.resolveFlavor(choice.ref);
    if (f.ok) flavor = f.value;
  }
  if (!steps.some((s) => s.kind === "boot") && !unshelvesTakeQuota) return { steps: finish(steps, undefined, undefined), boot: undefined, bootBlock };

  // Quota is read only when something takes it: most ticks boot nothing.
  const limits = reads?.limits ?? (await cloud.absoluteLimits());
  let quota: QuotaHeadroom | undefined;
  if (limits.ok) {
    quota = quotaHeadroom(limits.value);
    const tooMany = steps.some((s) => s.kind === "boot") ? checkMetadataFits(rules, limits.value.maxServerMeta) : undefined;
    if (tooMany !== undefined) {
      // The rules cannot work on this cloud: the same as Nova's 400, without sending a doomed boot.
      bootBlock = { etag: group.etag, revision: group.revision, reason: tooMany, at: now.toISOString() };
      notices.push({ level: "error", code: "boot-blocked", message: `booting is stopped until the rules change: ${tooMany}` });
      return { steps: finish(withoutBoots(steps), quota, flavor), boot: undefined, bootBlock, ...(flavor ? { flavor } : {}) };
    }
  } else {
    notices.push({ level: "warning", code: "limits-unavailable", message: `quota not checked (${limits.error.message}); Nova enforces it anyway` });
  }

  const limited = finish(steps, quota, flavor);
  const boot = image !== undefined && flavor !== undefined ? { image, flavor, quota } : undefined;
  return { steps: limited, boot, bootBlock, ...(flavor ? { flavor } : {}) };
}

function healthOf(desired: Desired, record: Pick<TickRecord, "listing" | "steps" | "notices" | "errors" | "counted" | "actualByStatus">, blocked: boolean): GroupHealth {
  // Paused first: a paused group takes no action, so nothing else about this tick matters to it.
  if (desired.source === "paused") return "paused";
  if (record.listing === "failed") return "error";
  if (blocked || record.errors.some((e) => e.category === "config" || e.category === "auth" || e.category === "internal")) return "error";
  if (record.notices.some((n) => n.code === "capacity-limited")) return "capacity-limited";
  const building = record.actualByStatus["BUILD"] ?? 0;
  if (record.steps.length > 0 || record.errors.length > 0 || record.counted !== desired.value || building > 0) return "converging";
  return "steady";
}

function activityFor(input: ReconcileInput, results: readonly StepResult[], counts: ActivityEntry["counts"]): ActivityEntry[] {
  const at = input.now.toISOString();
  const author = input.author;
  const out: ActivityEntry[] = [];
  for (const r of results) {
    const step = r.step;
    if (step.kind === "boot") {
      if (r.outcome === "done") out.push({ at, kind: "boot", author, reason: step.reason, count: step.count, serverIds: r.serverIds ?? [] });
      else if (r.outcome === "unknown" && r.error)
        out.push({ at, kind: "boot-unknown", author, reason: `${step.reason}; the answer was lost (${r.error.message}): not retried, the next listing will show what was created`, count: step.count, error: r.error });
      else if (r.error) out.push({ at, kind: "boot-failed", author, reason: step.reason, count: step.count, error: r.error, ...(counts ? { counts } : {}) });
    } else if (step.kind === "delete") {
      if (r.outcome === "done") out.push({ at, kind: "delete", author, reason: step.reason, serverIds: [step.serverId] });
      else if (r.error) out.push({ at, kind: "delete-failed", author, reason: step.reason, serverIds: [step.serverId], error: r.error });
    } else {
      out.push(...parkingActivity(r, at, author));
    }
  }
  const tickRequestId = input.tickRequestId;
  return tickRequestId === undefined ? out : out.map((entry) => ({ ...entry, tickRequestId }));
}

/** What makes two records "the same outcome": everything but the times. */
export function recordFingerprint(record: TickRecord): string {
  // The tick's request id differs every tick: a steady tick must still be recognised as the same outcome.
  const { at: _at, lastSeenAt: _seen, trigger: _trigger, author: _author, tickRequestId: _id, ...rest } = record;
  return JSON.stringify(rest);
}

/** Plans (and, unless dryRun, executes) one reconcile of one group. Never throws for cloud failures. */
export async function reconcileGroup(input: ReconcileInput): Promise<ReconcileOutput> {
  const { group, now, state } = input;
  const desired = desiredCount(group.rules, state.override, now, { ...(state.pause ? { pausedBy: state.pause.by } : {}), ...(state.signals === undefined ? {} : { signals: state.signals }) });
  const base = {
    at: now.toISOString(),
    trigger: input.trigger,
    author: input.author,
    rulesEtag: group.etag,
    rulesRevision: group.revision,
    desired,
    ...(input.tickRequestId === undefined ? {} : { tickRequestId: input.tickRequestId }),
  };

  if (!input.listing.ok) {
    // Without a listing we do not know what exists: booting could double, deleting could hit the wrong ones.
    const notices: Notice[] = [{ level: "error", code: "listing-failed", message: `no action this tick: ${input.listing.error.message}` }];
    const partial = { listing: "failed" as const, steps: [], notices, errors: [input.listing.error], counted: 0, actualByStatus: {} };
    const record: TickRecord = { ...base, ...partial, results: [], health: healthOf(desired, partial, false) };
    return { record, activity: [], bootBlock: state.bootBlock, bootBackoff: state.bootBackoff, acted: false, flavorMarks: state.flavorMarks ?? [] };
  }

  // Before planning: an ERROR member's delete and the boot backoff both say Nova's fault, read if the listing lacked it.
  const members = await withFaults(input.listing.members.filter((s) => isMember(s, group.name)), state.bootBackoff?.counted ?? [], input.cloud);
  // A rolling refresh holds new servers beyond desired on purpose: the scaling plan plans for desired + held,
  // so it neither trims the surge nor boots it again; boots go to the pinned image.
  // ERROR members Nova could not place mark their flavor; the one flavor this tick boots is chosen once, here
  // (before the refresh: a member on a fallback is drift only while a better flavor is not marked).
  const flavors = await planFlavor(group.rules, state.flavorMarks ?? [], members, input.cloud, now, { at: base.at, author: input.author, counts: { from: members.length, to: desired.value } });
  const refresh = await refreshTick({ group: group.name, rules: group.rules, desired, members, state: state.refresh, request: state.refreshRequest, flavors, cloud: input.cloud, now });
  const planDesired = refresh.held > 0 ? { ...desired, value: desired.value + refresh.held } : desired;
  const planned0 = plan({ group: { name: group.name, rules: group.rules }, desired: planDesired, members, now, listingComplete: true, ...(input.resuming ? { resuming: input.resuming } : {}), ...(input.adopted ? { adopted: input.adopted } : {}) });
  const planned = refresh.steps.length === 0 ? planned0 : { ...planned0, steps: mergeSteps(refresh.steps, planned0.steps) };
  const notices = [...planned.notices, ...refresh.notices];
  const errors: ErrorInfo[] = [];
  const surgeRoom = group.rules.refresh !== undefined && refresh.state !== undefined && refresh.state.completedAt === undefined ? group.rules.refresh.maxSurge : 0;
  const ceiling: GroupCeiling = { max: group.rules.max + surgeRoom, present: planned.present };
  const stamp: Stamp = { at: base.at, author: input.author, counts: { from: planned.counted, to: desired.value } };
  // Newer rules or a server up again end a backoff; servers Nova put in ERROR feed it, before anything boots.
  const opened = backoffBeforePlan(state.bootBackoff, members, state.failedLostBoots ?? [], group.revision, now, stamp);
  const gated: ReconcileInput = { ...input, group: { ...group, rules: pinnedRules(group.rules, refresh.state) }, state: { ...state, bootBackoff: opened.backoff } };
  const budgeted = await claimBudget(gated, planned.steps, ceiling, flavors.choice);
  let deferred = budgeted.deferred;
  const prepared = await prepareSteps(gated, budgeted.kept, ceiling, notices, errors, flavors.choice, budgeted.reservation?.boot);
  prepared.steps = withFlavorReason(prepared.steps, flavors.choice, notices);
  let bootBlock = prepared.bootBlock;
  // The flavor lines were stamped before planning: they carry the plan's counts like every other line.
  const activity: ActivityEntry[] = [...opened.activity, ...flavors.activity.map((a) => ({ ...a, counts: stamp.counts }))];
  if (refresh.started && refresh.state !== undefined) {
    activity.push({ ...stamp, kind: "refresh-started", reason: `rolling refresh to image ${refresh.state.targetImageId}${refresh.state.targetFlavor === undefined ? "" : `, flavor ${refresh.state.targetFlavor}`} (${refresh.state.trigger}${refresh.state.ignoreWindow ? ", ignoring the windows" : ""})` });
  }
  if (refresh.state?.halted !== undefined && state.refresh?.halted === undefined) activity.push({ ...stamp, kind: "refresh-halted", reason: refresh.state.halted.reason });
  if (refresh.state?.completedAt !== undefined && state.refresh?.completedAt === undefined && state.refresh !== undefined) {
    activity.push({ ...stamp, kind: "refresh-completed", reason: `every member runs image ${refresh.state.targetImageId} (${refresh.state.replaced} replaced)` });
  }
  if (bootBlock !== undefined && bootBlock !== input.state.bootBlock) {
    activity.push({ ...stamp, kind: "boot-blocked", reason: bootBlock.reason });
  }

  const results: StepResult[] = [];
  let acted = false;
  if (!input.dryRun && prepared.steps.length > 0) {
    acted = true;
    const deletes = prepared.steps.filter((s): s is Extract<Step, { kind: "delete" }> => s.kind === "delete");
    const deleted = await mapBounded(deletes, DELETE_CONCURRENCY, (s) => executeDelete(input, s));
    results.push(...deleted);
    // Parks and resumes go out like deletes: a few at a time. Resumes come before boots (what is parked comes back first).
    const parks = prepared.steps.filter((s): s is Extract<Step, { kind: "park" }> => s.kind === "park");
    results.push(...(await mapBounded(parks, DELETE_CONCURRENCY, (s) => executePark(input.cloud, s, now))));
    const resumes = prepared.steps.filter((s): s is Extract<Step, { kind: "resume" }> => s.kind === "resume");
    const size = prepared.flavor === undefined ? undefined : { vcpus: prepared.flavor.vcpus, ramMB: prepared.flavor.ramMB };
    const resumed = await mapBounded(resumes, DELETE_CONCURRENCY, (s) => executeResume(input.cloud, s, size));
    results.push(...resumed);
    const unmarks = prepared.steps.filter((s): s is Extract<Step, { kind: "unmark" }> => s.kind === "unmark");
    results.push(...(await mapBounded(unmarks, DELETE_CONCURRENCY, (s) => executeUnmark(input.cloud, s))));
    if (resumed.some((r) => r.error?.category === "quota") && !notices.some((n) => n.code === "capacity-limited")) {
      notices.push({ level: "warning", code: "capacity-limited", message: "Nova refused an unshelve for quota: resumed what fits" });
    }
    // A broken server whose delete failed still occupies its place: its replacement waits (never over max).
    // A resume that went out (or may have) takes a place too.
    const resumedPlaces = resumed.filter((r) => r.outcome !== "failed" && r.outcome !== "skipped").length;
    const atMax = capBootsAtMax(prepared.steps, bootRoom(ceiling, deleted.filter((r) => r.outcome === "done").length) - resumedPlaces, ceiling.max);
    notices.push(...atMax.notices.filter((n) => !notices.some((m) => m.code === n.code)));
    const boots = atMax.steps.filter((s): s is Extract<Step, { kind: "boot" }> => s.kind === "boot");
    for (const step of boots) {
      if (prepared.boot === undefined) break;
      const { results: bootResults, quotaHit } = await executeBoot(input, step, prepared.boot);
      results.push(...bootResults);
      if (quotaHit && !notices.some((n) => n.code === "capacity-limited")) {
        notices.push({ level: "warning", code: "capacity-limited", message: "Nova refused part of the boot for quota: booted what fits" });
      }
      const rejected = bootResults.find((r) => r.outcome === "failed" && r.error?.category === "config");
      if (rejected?.error) {
        bootBlock = { etag: group.etag, revision: group.revision, reason: rejected.error.message, at: base.at, ...(rejected.error.requestId ? { requestId: rejected.error.requestId } : {}) };
        activity.push({ ...stamp, kind: "boot-blocked", reason: `Nova rejected the boot; booting stops until the rules change: ${rejected.error.message}` });
        break;
      }
    }
    errors.push(...results.flatMap((r) => (r.error ? [r.error] : [])));
    activity.unshift(...activityFor(input, results, stamp.counts));
  }
  const after = backoffAfterBoots(opened.backoff, results, group.revision, now, stamp);
  activity.push(...after.activity);
  const refusedBefore = quotaRefusalBefore(flavors, budgeted.kept.some((s) => s.kind === "boot") && !prepared.steps.some((s) => s.kind === "boot"), prepared.boot);
  const marked = input.dryRun ? { marks: flavors.marks, activity: [] } : marksAfterBoots(flavors, results, refusedBefore, now, stamp);
  activity.push(...marked.activity);
  const unchanged = JSON.stringify(marked.marks) === JSON.stringify(state.flavorMarks ?? []);
  if (budgeted.reservation !== undefined) await input.cloud.release(budgeted.reservation.id);
  const unsent = results.filter((r) => r.outcome === "skipped" && r.error?.notSent === true).length;
  if (unsent > 0) {
    // A request the transport refused at the last moment (a retry elsewhere ate the budget, or time ran out).
    const steps = (deferred?.steps ?? 0) + unsent;
    const reason = deferred?.reason ?? (results.some((r) => r.error !== undefined && notSentReason(r.error) === "deadline") ? "deadline" : "subrequests");
    deferred = { reason, steps, message: `${steps} step(s) wait for the next tick, which serves this group first: the tick's budget ran out` };
  }
  if (deferred !== undefined) notices.push({ level: "warning", code: "deferred", message: deferred.message });

  const partial = {
    listing: "complete" as const,
    steps: prepared.steps,
    notices,
    errors,
    counted: planned.counted,
    actualByStatus: planned.actualByStatus,
    ...(planned.parked > 0 ? { parked: planned.parked } : {}),
  };
  const blocked = bootBlockActive(bootBlock, group.etag) || backoffHolds(after.backoff, now);
  const record: TickRecord = { ...base, ...partial, results, health: healthOf(desired, partial, blocked) };
  if (deferred !== undefined) record.deferred = deferred;
  if (refresh.progress !== undefined && refresh.state !== undefined) record.refresh = { ...refreshView(refresh.state), progress: refresh.progress };
  return { record, activity, bootBlock, bootBackoff: after.backoff, acted, refresh: refresh.state, refreshPlan: planRefreshView(refresh), flavorMarks: unchanged ? (state.flavorMarks ?? []) : marked.marks };
}

/** The dry-run view of a reconcile output. */
export function toPreview(output: ReconcileOutput): PlanPreview {
  const r = output.record;
  return {
    at: r.at,
    desired: r.desired,
    actualByStatus: r.actualByStatus,
    counted: r.counted,
    ...(r.parked !== undefined ? { parked: r.parked } : {}),
    listing: r.listing,
    steps: r.steps,
    notices: r.notices,
    errors: r.errors,
    bootBlock: output.bootBlock ?? null,
    noBootReasons: [],
    refresh: output.refreshPlan ?? null,
  };
}
