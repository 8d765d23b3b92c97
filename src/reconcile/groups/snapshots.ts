// Snapshot executor: gather the group's images, plan with core/snapshots, call createImage/deleteImage, report.
import type { SnapshotPolicy } from "../../config/group.ts";
import { isMember, isOwnSnapshot } from "../../core/model/membership.ts";
import { findRepeat, planManualSnapshot, rememberManual, requestFingerprint, type ManualRequest, type ManualSnapshotRecord } from "../../core/snapshots/manual-snapshots.ts";
import { isImageInProgress, type RetentionGuard } from "../../core/snapshots/retention.ts";
import { newestSnapshots, type NewestSnapshot } from "../../core/snapshots/snapshot-ages.ts";
import {
  isSettled,
  ownSnapshotFilter,
  planSnapshots,
  snapshotProperties,
  summarizeImage,
  type SnapshotAttempts,
  type SnapshotObservation,
  type SnapshotPlan,
} from "../../core/snapshots/snapshots.ts";
import type { Notice, ObservedImage, ObservedServer, Step } from "../../core/model/types.ts";
import type { CloudPort } from "../gateway/gateway.ts";
import { guardForPruning, type GuardRefresh } from "../rules/current-guard.ts";
import { CloudUnavailableError, ConflictError, InvalidRequestError, type ActivityEntry, type ErrorInfo, type ServiceError, type SnapshotListing, type StepResult, type TakeSnapshotResult } from "../shared/service.ts";

// The answers' shapes live with the service interface that returns them (service.ts imports nothing from here).
export type { SnapshotListing, TakeSnapshotResult };

/**
 * The cloud calls snapshots need, answering data instead of throwing (errors do not survive RPC):
 * the Durable Object's CloudGateway stub, or `new CloudGateway(computeCloud)` in the Worker and in tests.
 */
export type SnapshotCloud = Pick<CloudPort, "listServers" | "createImage" | "listImages" | "getImage" | "deleteImage">;

type SnapshotStep = Extract<Step, { kind: "snapshot" }>;
type DeleteImageStep = Extract<Step, { kind: "deleteImage" }>;

export interface SnapshotTickInput {
  cloud: SnapshotCloud;
  group: string;
  policy: SnapshotPolicy;
  /** The group's servers from the tick's own listing (saves a second /servers/detail). */
  members: readonly ObservedServer[];
  /** The group's remembered attempts (Durable Object state), undefined when none. */
  attempts: SnapshotAttempts | undefined;
  now: Date;
  /** Who the activity entries name: "cron" for ticks. */
  author?: string;
  /** Plan only: no createImage/deleteImage, state and activity unchanged (for the dry-run endpoint). */
  dryRun?: boolean;
  /** The group is paused (operator or rules): no actions at all; what would be done shows as a notice. */
  paused?: boolean;
  /** What else in the project needs images (the cron tick's view); without it retention deletes nothing this tick. */
  guard?: RetentionGuard | undefined;
  /** The registry's current rules, asked only when the plan would delete images (the plan is made again with both guards). */
  refreshGuard?: GuardRefresh;
}

export interface SnapshotTickResult {
  /** null when the images could not be gathered (then nothing was done) or the firing is settled. */
  plan: SnapshotPlan | null;
  /** The latest firing was already served and pruned under this policy: no cloud call was made. */
  settled: boolean;
  /** The steps as planned (also in `plan.steps`), for the tick record. */
  steps: Step[];
  results: StepResult[];
  notices: Notice[];
  activity: ActivityEntry[];
  /** Store this as the group's new attempts state (unchanged when the gather failed or on a dry run). */
  attempts: SnapshotAttempts | undefined;
  errors: ErrorInfo[];
  /** Each member's newest active snapshot, when this tick listed the images (not settled, not failed, not a dry run): /metrics' snapshot age. */
  newest?: NewestSnapshot[];
}

/**
 * Lists the group's own snapshots, and looks up remembered image ids the filtered listing does not show:
 * an old cloud may filter badly, and only a 404 proves an attempt "vanished".
 */
async function gatherImages(
  cloud: SnapshotCloud,
  group: string,
  attempts: SnapshotAttempts | undefined,
): Promise<{ ok: true; images: ObservedImage[] } | { ok: false; error: ErrorInfo }> {
  const listing = await cloud.listImages(ownSnapshotFilter(group));
  if (!listing.ok) return { ok: false, error: { ...listing.error, operation: `list snapshots of group ${group}` } };
  const images = [...listing.value];
  const listed = new Set(images.map((image) => image.id));
  const reported = new Set(attempts?.failedImageIds ?? []);
  for (const id of attempts?.imageIds ?? []) {
    if (listed.has(id) || reported.has(id)) continue;
    const found = await cloud.getImage(id);
    if (!found.ok) return { ok: false, error: found.error };
    if (found.value !== null && isOwnSnapshot(found.value, group)) images.push(found.value);
  }
  return { ok: true, images };
}

function observationActivity(observation: SnapshotObservation, at: string, author: string): ActivityEntry {
  if (observation.kind === "held") {
    return { at, kind: "image-kept", author, reason: `snapshot '${observation.imageName}' ${observation.reason}`, imageId: observation.imageId };
  }
  if (observation.kind === "confirmed") {
    return {
      at,
      kind: "snapshot-confirmed",
      author,
      reason: `snapshot '${observation.imageName}' for the firing at ${observation.firing} is active`,
      imageId: observation.imageId,
    };
  }
  return {
    at,
    kind: "snapshot-failed",
    author,
    reason: `${observation.reason} (firing ${observation.firing}${observation.imageName === "" ? "" : `, image '${observation.imageName}'`})`,
    imageId: observation.imageId,
  };
}

interface SnapshotOutcome {
  result: StepResult;
  activity: ActivityEntry;
  imageId?: string;
}

async function executeSnapshot(cloud: SnapshotCloud, step: SnapshotStep, at: string, author: string): Promise<SnapshotOutcome> {
  const created = await cloud.createImage(step.serverId, step.imageName, snapshotProperties(step.group, step.serverId, step.firing, step.manual === true));
  if (created.ok) {
    const imageId = created.value;
    return {
      imageId,
      result: { step, outcome: "done", serverIds: [step.serverId], imageId },
      activity: {
        at,
        kind: "snapshot",
        author,
        reason: `took snapshot '${step.imageName}' of server '${step.serverName}': ${step.reason}`,
        serverIds: [step.serverId],
        imageId,
      },
    };
  }
  const error = created.error;
  return {
      result: { step, outcome: "failed", serverIds: [step.serverId], error },
      activity: {
        at,
        kind: "snapshot-failed",
        author,
        reason: `createImage of server '${step.serverName}' failed (attempt ${step.attempt}): ${error.message}`,
        serverIds: [step.serverId],
        error,
      },
    };
}

async function executeDeleteImage(cloud: SnapshotCloud, step: DeleteImageStep, at: string, author: string): Promise<{ result: StepResult; activity: ActivityEntry }> {
  const deleted = await cloud.deleteImage(step.imageId);
  if (deleted.ok) {
    return {
      result: { step, outcome: "done", imageId: step.imageId },
      activity: { at, kind: "image-deleted", author, reason: `deleted snapshot '${step.imageName}': ${step.reason}`, imageId: step.imageId },
    };
  }
  const error = deleted.error;
  return {
    result: { step, outcome: "failed", imageId: step.imageId, error },
    activity: { at, kind: "error", author, reason: `could not delete snapshot '${step.imageName}': ${error.message}`, imageId: step.imageId, error },
  };
}

/**
 * One tick of a group's snapshot policy. Call it for every group with `rules.snapshots` (inside the
 * group's Durable Object, so two ticks never overlap), then store `attempts` and append `activity`.
 * Never throws for cloud failures: they come back in `errors` and `results`.
 */
export async function runSnapshotTick(input: SnapshotTickInput): Promise<SnapshotTickResult> {
  const { cloud, group, policy, now } = input;
  const author = input.author ?? "cron";
  const at = now.toISOString();
  const members = input.members.filter((s) => isMember(s, group));

  if (input.dryRun !== true && isSettled(policy, input.attempts, now)) {
    return { plan: null, settled: true, steps: [], results: [], notices: [], activity: [], attempts: input.attempts, errors: [] };
  }
  const gathered = await gatherImages(cloud, group, input.attempts);
  if (!gathered.ok) {
    // Without the listing we cannot tell whether tonight's snapshot exists: taking one could duplicate it.
    return { plan: null, settled: false, steps: [], results: [], notices: [], activity: [], attempts: input.attempts, errors: [gathered.error] };
  }
  const images = gathered.images;
  const newest = input.dryRun === true ? {} : { newest: newestSnapshots(members, images) };

  let plan = planSnapshots({ group, policy, members, images, attempts: input.attempts, now, guard: input.guard });
  if (input.refreshGuard !== undefined && plan.steps.some((s) => s.kind === "deleteImage")) {
    // The tick's guard is the KV index it read: a group re-pointed at one of these images since then names it only in the registry.
    const guard = await guardForPruning(input.guard, input.refreshGuard);
    plan = planSnapshots({ group, policy, members, images, attempts: input.attempts, now, guard });
  }
  if (input.paused === true && input.dryRun !== true) {
    const held = plan.steps.length === 0 ? [] : [{ level: "info" as const, code: "snapshots-paused", message: `group '${group}' is paused: ${plan.steps.length} snapshot step(s) held back (${plan.steps.map((s) => s.kind).join(", ")})` }];
    return { plan, settled: false, steps: [], results: [], notices: [...plan.notices, ...held], activity: [], attempts: input.attempts, errors: [], ...newest };
  }
  if (input.dryRun === true) {
    return { plan, settled: false, steps: plan.steps, results: [], notices: plan.notices, activity: [], attempts: input.attempts, errors: [] };
  }

  const activity = plan.observations.map((o) => observationActivity(o, at, author));
  const results: StepResult[] = [];
  const errors: ErrorInfo[] = [];
  const attempts = plan.attempts === undefined ? undefined : { ...plan.attempts, imageIds: [...plan.attempts.imageIds] };
  const ownIds = new Set(images.filter((image) => isOwnSnapshot(image, group)).map((image) => image.id));

  for (const step of plan.steps) {
    if (step.kind === "snapshot") {
      const outcome = await executeSnapshot(cloud, step, at, author);
      results.push(outcome.result);
      activity.push(outcome.activity);
      if (outcome.result.error !== undefined) errors.push(outcome.result.error);
      if (attempts !== undefined && attempts.firing === step.firing) {
        attempts.attempts = Math.max(attempts.attempts, step.attempt);
        if (outcome.imageId !== undefined) {
          attempts.imageIds.push(outcome.imageId);
          delete attempts.lastError;
        } else if (outcome.result.error !== undefined) {
          attempts.lastError = outcome.result.error.message;
        }
      }
    } else if (step.kind === "deleteImage") {
      // The planner only proposes own images; checking again here costs nothing and guards the one irreversible call.
      if (!ownIds.has(step.imageId)) {
        results.push({ step, outcome: "skipped", imageId: step.imageId });
        continue;
      }
      const outcome = await executeDeleteImage(cloud, step, at, author);
      results.push(outcome.result);
      activity.push(outcome.activity);
      if (outcome.result.error !== undefined) errors.push(outcome.result.error);
    }
  }

  return { plan, settled: false, steps: plan.steps, results, notices: plan.notices, activity, attempts, errors, ...newest };
}

/**
 * For the Worker side of the API (errors do not keep their class across RPC, so the Durable Object answers
 * data): a cloud failure as a service error. Nova refusing (4xx, e.g. 409 "server busy") is a conflict;
 * anything else means the cloud could not answer (503).
 */
export function snapshotServiceError(error: ErrorInfo): ServiceError {
  const details: Record<string, unknown> = { operation: error.operation, category: error.category };
  if (error.status !== undefined) details.status = error.status;
  if (error.requestId !== undefined) details.requestId = error.requestId;
  const message = `${error.operation}: ${error.message}`;
  const refused = error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 429 && error.status !== 401;
  return refused ? new ConflictError(message, details) : new CloudUnavailableError(message, details);
}

export type SnapshotAnswer<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

async function groupMembers(cloud: SnapshotCloud, group: string): Promise<SnapshotAnswer<ObservedServer[]>> {
  const listing = await cloud.listServers();
  if (!listing.ok) return listing;
  return { ok: true, value: listing.value.filter((s) => isMember(s, group)) };
}

/** For `GET /v1/groups/{name}/snapshots`: lists live, changes nothing; a cloud failure comes back as data. */
export async function listSnapshots(input: {
  cloud: SnapshotCloud;
  group: string;
  policy: SnapshotPolicy | undefined;
  attempts: SnapshotAttempts | undefined;
  now: Date;
  /** The group's servers when the caller has them; listed otherwise. */
  members?: readonly ObservedServer[];
  /** The last cron tick's guard, to show what retention holds back. */
  guard?: RetentionGuard | undefined;
}): Promise<SnapshotAnswer<SnapshotListing>> {
  const { cloud, group, policy, now } = input;
  const gathered = await gatherImages(cloud, group, input.attempts);
  if (!gathered.ok) return gathered;
  const images = gathered.images;
  const snapshots = images
    .filter((image) => isOwnSnapshot(image, group))
    .map((image) => summarizeImage(image, group, policy))
    .sort((a, b) => (b.firing ?? b.created).localeCompare(a.firing ?? a.created) || b.created.localeCompare(a.created) || b.id.localeCompare(a.id));
  if (policy === undefined) return { ok: true, value: { group, status: null, notices: [], snapshots } };
  const members = input.members === undefined ? await groupMembers(cloud, group) : { ok: true as const, value: [...input.members] };
  if (!members.ok) return members;
  const plan = planSnapshots({ group, policy, members: members.value, images, attempts: input.attempts, now, guard: input.guard });
  return { ok: true, value: { group, status: plan.status, notices: plan.notices, snapshots } };
}

/** An earlier answer as this call's answer: the step it took, with the image id Nova gave then. */
function replay(group: string, record: ManualSnapshotRecord, log: ManualSnapshotRecord[], why: string): TakeSnapshotResult {
  const step: Step = {
    kind: "snapshot",
    group,
    serverId: record.serverId,
    serverName: record.serverName,
    imageName: record.imageName,
    firing: record.firing,
    attempt: 1,
    reason: record.reason,
    manual: true,
  };
  return { step, result: { step, outcome: "done", serverIds: [record.serverId], imageId: record.imageId }, notice: null, activity: [], error: null, replayed: why, keyReused: null, log };
}

/**
 * For `POST /v1/groups/{name}/snapshots`: take one now from the policy's source (or `serverId`, if a
 * member). Idempotent: the same Idempotency-Key answers the earlier answer; without a key, a repeat within
 * a few minutes while the earlier image is still in progress answers that one (unless `force`), so a retried
 * request never snapshots a second member. A manual snapshot is marked `novascale:kind=manual`, never stands
 * in for the nightly one, and has its own retention bound (keepManual). Cloud failures come back in `error`.
 */
export async function takeSnapshotNow(input: {
  cloud: SnapshotCloud;
  group: string;
  policy: SnapshotPolicy | undefined;
  author: string;
  now: Date;
  serverId?: string;
  request?: ManualRequest;
  /** The group's remembered manual snapshots (oldest first). */
  log?: readonly ManualSnapshotRecord[];
}): Promise<TakeSnapshotResult> {
  const { cloud, group, author, now } = input;
  const log = [...(input.log ?? [])];
  const request: ManualRequest = { ...input.request, serverId: input.serverId ?? input.request?.serverId };
  const none = { step: null, result: null, notice: null, activity: [], error: null, replayed: null, keyReused: null, log };
  const repeat = findRepeat(log, request, now);
  if (repeat.kind === "key-reused") return { ...none, keyReused: repeat.record };
  if (repeat.kind === "replay") return replay(group, repeat.record, log, repeat.reason);
  if (repeat.kind === "recent") {
    const image = await cloud.getImage(repeat.record.imageId);
    if (!image.ok) return { ...none, error: image.error };
    const status = image.value?.status.toLowerCase();
    if (status !== undefined && isImageInProgress(status)) {
      return replay(group, repeat.record, log, `the manual snapshot '${repeat.record.imageName}' requested at ${repeat.record.at} is still ${status}; send force: true for another`);
    }
  }

  const members = await groupMembers(cloud, group);
  if (!members.ok) return { ...none, error: members.error };
  const serverChoice = request.serverId === undefined ? {} : { serverId: request.serverId };
  const manual = planManualSnapshot({ group, policy: input.policy, members: members.value, now, author, ...serverChoice });
  if (manual.step === null || manual.step.kind !== "snapshot") return { ...none, notice: manual.notice };
  const step = manual.step;
  const outcome = await executeSnapshot(cloud, step, now.toISOString(), author);
  const error = outcome.result.error ?? null;
  const record: ManualSnapshotRecord | undefined =
    outcome.imageId === undefined
      ? undefined
      : {
          ...(request.idempotencyKey === undefined ? {} : { key: request.idempotencyKey }),
          fingerprint: requestFingerprint(request),
          at: now.toISOString(),
          author,
          imageId: outcome.imageId,
          imageName: step.imageName,
          serverId: step.serverId,
          serverName: step.serverName,
          firing: step.firing,
          reason: step.reason,
        };
  return {
    step,
    result: outcome.result,
    notice: null,
    activity: [outcome.activity],
    error,
    replayed: null,
    keyReused: null,
    log: record === undefined ? log : rememberManual(log, record, now),
  };
}

/** Worker side of GET snapshots: the listing, or the service error the API maps to HTTP. */
export function settleSnapshotListing(answer: SnapshotAnswer<SnapshotListing>): SnapshotListing {
  if (!answer.ok) throw snapshotServiceError(answer.error);
  return answer.value;
}

/** Worker side of POST snapshots: the accepted snapshot, or ConflictError / CloudUnavailableError saying why not. */
export function settleTakeSnapshot(taken: TakeSnapshotResult): TakeSnapshotResult {
  if (taken.keyReused !== null) {
    throw new InvalidRequestError(`Idempotency-Key was used at ${taken.keyReused.at} for a different request (serverId or force differ); use a new key`, {
      code: "idempotency-key-reused",
    });
  }
  if (taken.error !== null) throw snapshotServiceError(taken.error);
  if (taken.step === null || taken.result === null) throw new ConflictError(taken.notice?.message ?? "no member to snapshot", { code: taken.notice?.code ?? "snapshot-no-source" });
  return taken;
}
