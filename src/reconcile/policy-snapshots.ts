// Snapshot policy executor: list the policy's images, plan with core/policy-snapshots, call createImage/deleteImage, report.
import { isPolicySnapshot, planPolicySnapshots, policySnapshotFilter, policySnapshotProperties, type PolicyPlan } from "../core/policy-snapshots.ts";
import type { RetentionGuard } from "../core/retention.ts";
import type { ObservedServer } from "../core/types.ts";
import type { SnapshotPolicyRules } from "../core/rules.ts";
import type { ErrorInfo } from "./service.ts";
import type { SnapshotCloud } from "./snapshots.ts";

/** One policy's activity line (the policy resource keeps its own log, as a group does). */
export interface PolicyActivity {
  at: string;
  kind: "snapshot" | "snapshot-failed" | "image-deleted" | "error";
  reason: string;
  serverId?: string;
  imageId?: string;
}

export interface PolicyTickResult {
  /** null when the images could not be listed (then nothing was done: it cannot tell what exists). */
  plan: PolicyPlan | null;
  activity: PolicyActivity[];
  errors: ErrorInfo[];
}

/**
 * One tick of a snapshot policy, on the tick's project-wide listing and guard. Never throws for cloud
 * failures. Dry run (the preview): plan only.
 */
export async function runPolicyTick(input: {
  cloud: SnapshotCloud;
  name: string;
  rules: SnapshotPolicyRules;
  servers: readonly ObservedServer[];
  now: Date;
  guard: RetentionGuard | undefined;
  dryRun?: boolean;
}): Promise<PolicyTickResult> {
  const { cloud, name, rules, now } = input;
  const at = now.toISOString();
  const listing = await cloud.listImages(policySnapshotFilter(name));
  if (!listing.ok) return { plan: null, activity: [], errors: [{ ...listing.error, operation: `list snapshots of policy ${name}` }] };
  const images = listing.value;
  const plan = planPolicySnapshots({ name, rules, servers: input.servers, images, now, guard: input.guard });
  if (input.dryRun === true) return { plan, activity: [], errors: [] };

  const ownIds = new Set(images.filter((image) => isPolicySnapshot(image, name)).map((image) => image.id));
  const activity: PolicyActivity[] = [];
  const errors: ErrorInfo[] = [];
  for (const step of plan.steps) {
    if (step.kind === "snapshot") {
      const created = await cloud.createImage(step.serverId, step.imageName, policySnapshotProperties(name, step.serverId, step.firing));
      if (created.ok) activity.push({ at, kind: "snapshot", reason: `took snapshot '${step.imageName}': ${step.reason}`, serverId: step.serverId, imageId: created.value });
      else {
        errors.push(created.error);
        activity.push({ at, kind: "snapshot-failed", reason: `createImage of server '${step.serverName}' failed: ${created.error.message}`, serverId: step.serverId });
      }
    } else {
      // The one irreversible call: only an image listed with this policy's marks, whatever the plan says.
      if (!ownIds.has(step.imageId)) continue;
      const deleted = await cloud.deleteImage(step.imageId);
      if (deleted.ok) activity.push({ at, kind: "image-deleted", reason: `deleted snapshot '${step.imageName}': ${step.reason}`, imageId: step.imageId });
      else {
        errors.push(deleted.error);
        activity.push({ at, kind: "error", reason: `could not delete snapshot '${step.imageName}': ${deleted.error.message}`, imageId: step.imageId });
      }
    }
  }
  return { plan, activity, errors };
}
