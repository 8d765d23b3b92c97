// Snapshot policy executor: list the policy's images, plan with core/policy-snapshots, call createImage/deleteImage, report.
import { newestSnapshots, type NewestSnapshot } from "../../core/snapshots/snapshot-ages.ts";
import { isPolicySnapshot, planPolicySnapshots, selectServers, policySnapshotFilter, policySnapshotProperties, type PolicyPlan, type PolicyStep } from "../../core/snapshots/policy-snapshots.ts";
import type { RetentionGuard } from "../../core/snapshots/retention.ts";
import type { ObservedServer } from "../../core/model/types.ts";
import type { SnapshotPolicyRules } from "../../core/model/rules.ts";
import type { ActivityEntry, ErrorInfo } from "../shared/service.ts";
import type { SnapshotCloud } from "../groups/snapshots.ts";
import { guardForPruning, type GuardRefresh } from "../rules/current-guard.ts";

export interface PolicyPlanInput {
  cloud: Pick<SnapshotCloud, "listImages">;
  name: string;
  rules: SnapshotPolicyRules;
  servers: readonly ObservedServer[];
  now: Date;
  guard: RetentionGuard | undefined;
  /**
   * The registry's current rules, asked only when the plan would delete images: the plan is made again
   * with both guards, so an image a group was pointed at after the tick read KV is kept. Absent: the
   * tick's guard alone (tests of the pure half).
   */
  refreshGuard?: GuardRefresh;
  /** createImage calls already sent per server for the latest firing (refused ones too): they count toward maxAttempts. */
  calls?: Readonly<Record<string, number>>;
}

/** The plan of one run, with the ids of the images listed with this policy's marks (the only ones deleteImage may touch). */
export type PlannedRun = { ok: true; plan: PolicyPlan; ownIds: ReadonlySet<string>; newest: NewestSnapshot[] } | { ok: false; error: ErrorInfo };

/** Lists the policy's images and plans (the preview stops here; so does a run whose listing failed). */
export async function planPolicyRun(input: PolicyPlanInput): Promise<PlannedRun> {
  const { name, rules, now } = input;
  const listing = await input.cloud.listImages(policySnapshotFilter(name));
  if (!listing.ok) return { ok: false, error: { ...listing.error, operation: `list snapshots of policy ${name}` } };
  const images = listing.value;
  const calls = input.calls === undefined ? {} : { calls: input.calls };
  let plan = planPolicySnapshots({ name, rules, servers: input.servers, images, now, guard: input.guard, ...calls });
  if (input.refreshGuard !== undefined && plan.steps.some((s) => s.kind === "deleteImage")) {
    const guard = await guardForPruning(input.guard, input.refreshGuard);
    plan = planPolicySnapshots({ name, rules, servers: input.servers, images, now, guard, ...calls });
  }
  const own = images.filter((image) => isPolicySnapshot(image, name));
  return { ok: true, plan, ownIds: new Set(own.map((image) => image.id)), newest: newestSnapshots(selectServers(rules.select, input.servers), own) };
}

export interface ExecutedSteps {
  activity: ActivityEntry[];
  errors: ErrorInfo[];
  /** createImage answers by step (undefined: failed), in step order, for the run's ledger. */
  created: Array<{ step: Extract<PolicyStep, { kind: "snapshot" }>; imageId?: string; error?: ErrorInfo }>;
}

/**
 * Sends the steps in order. `beforeCreate` runs before each createImage (the run's ledger records the
 * intent there, so a lost answer is never followed by a second snapshot of the same server and firing).
 */
export async function executePolicySteps(input: {
  cloud: Pick<SnapshotCloud, "createImage" | "deleteImage">;
  name: string;
  steps: readonly PolicyStep[];
  ownIds: ReadonlySet<string>;
  at: string;
  author: string;
  beforeCreate?: (step: Extract<PolicyStep, { kind: "snapshot" }>) => Promise<void>;
}): Promise<ExecutedSteps> {
  const { cloud, name, at, author } = input;
  const out: ExecutedSteps = { activity: [], errors: [], created: [] };
  for (const step of input.steps) {
    if (step.kind === "snapshot") {
      await input.beforeCreate?.(step);
      const created = await cloud.createImage(step.serverId, step.imageName, policySnapshotProperties(name, step.serverId, step.firing));
      if (created.ok) {
        out.created.push({ step, imageId: created.value });
        out.activity.push({ at, kind: "snapshot", author, reason: `took snapshot '${step.imageName}': ${step.reason}`, serverIds: [step.serverId], imageId: created.value });
      } else {
        out.created.push({ step, error: created.error });
        out.errors.push(created.error);
        out.activity.push({ at, kind: "snapshot-failed", author, reason: `createImage of server '${step.serverName}' failed: ${created.error.message}`, serverIds: [step.serverId], error: created.error });
      }
    } else {
      // The one irreversible call: only an image listed with this policy's marks, whatever the plan says.
      if (!input.ownIds.has(step.imageId)) continue;
      const deleted = await cloud.deleteImage(step.imageId);
      if (deleted.ok) out.activity.push({ at, kind: "image-deleted", author, reason: `deleted snapshot '${step.imageName}': ${step.reason}`, imageId: step.imageId });
      else {
        out.errors.push(deleted.error);
        out.activity.push({ at, kind: "error", author, reason: `could not delete snapshot '${step.imageName}': ${deleted.error.message}`, imageId: step.imageId, error: deleted.error });
      }
    }
  }
  return out;
}

export interface PolicyTickResult {
  /** null when the images could not be listed (then nothing was done: it cannot tell what exists). */
  plan: PolicyPlan | null;
  activity: ActivityEntry[];
  errors: ErrorInfo[];
}

/**
 * One unbudgeted run of a snapshot policy on a given listing and guard: plan, then every step. Never
 * throws for cloud failures. Dry run (the preview): plan only. (The policy's Durable Object runs the
 * same two halves with its ledger and the tick's budget in between: policy-run.ts.)
 */
export async function runPolicyTick(input: PolicyPlanInput & { cloud: SnapshotCloud; dryRun?: boolean; author?: string }): Promise<PolicyTickResult> {
  const planned = await planPolicyRun(input);
  if (!planned.ok) return { plan: null, activity: [], errors: [planned.error] };
  if (input.dryRun === true) return { plan: planned.plan, activity: [], errors: [] };
  const done = await executePolicySteps({ cloud: input.cloud, name: input.name, steps: planned.plan.steps, ownIds: planned.ownIds, at: input.now.toISOString(), author: input.author ?? "cron" });
  return { plan: planned.plan, activity: done.activity, errors: done.errors };
}
