// Pure snapshot planner: is there a snapshot for the latest firing (within grace)? which source? what to prune?
import { z } from "zod";
import type { SnapshotPolicy } from "../model/rules.ts";
import { IMAGE_SOURCE_SERVER_KEY, isMember, isOwnSnapshot } from "../model/membership.ts";
import { isImageInProgress, type RetentionDecision, type RetentionGuard } from "./retention.ts";
import { latestCronFiring } from "../schedule/schedule.ts";
import { groupRetention, imageFiring, isManualSnapshot, snapshotImageName, statusOf, summarizeImage, type SnapshotImageSummary } from "./snapshot-images.ts";
import type { Notice, ObservedImage, ObservedServer, Step } from "../model/types.ts";

// The identity of a snapshot image lives in snapshot-images.ts; re-exported for the executor and the API.
export { groupRetention, imageFiring, isManualSnapshot, ownSnapshotFilter, snapshotImageName, snapshotProperties, summarizeImage } from "./snapshot-images.ts";
export type { SnapshotImageSummary } from "./snapshot-images.ts";

/*
 * Image status table (Glance v2 lower case; Nova's old image proxy upper case, so compare lower-cased):
 *
 *   queued, saving, uploading, importing  -> in progress: the firing is being served, take nothing
 *   active                                -> done: the firing is served; pruning may run
 *   killed, error                         -> failed attempt: retried while attempts remain, cleaned up later
 *   deleted, pending_delete               -> failed attempt (it is going away), never deleted again
 *   anything else (e.g. deactivated)      -> failed attempt for the firing, left alone by retention
 *
 * An image id createImage returned for the firing that no longer exists at all has "vanished": a failed attempt.
 */
const DONE = "active";

/** At most this many deleteImage steps per tick per group; the rest wait for the next tick (subrequest budget). */
export const MAX_IMAGE_DELETES_PER_TICK = 10;

/** What novascale remembers between ticks about the attempts for one firing (kept in the group's Durable Object). */
export const SnapshotAttemptsSchema = z
  .object({
    /** The firing (ISO-8601, UTC) the counters below refer to. */
    firing: z.string(),
    /** createImage calls made for this firing, including calls that failed outright. */
    attempts: z.number().int().min(0),
    /** Image ids createImage returned for this firing. */
    imageIds: z.array(z.string()),
    /** Image ids already reported as failed (each failure is reported once). */
    failedImageIds: z.array(z.string()),
    /** The image already reported as confirmed (active). */
    confirmedImageId: z.string().optional(),
    /** The last createImage error for this firing, for status. */
    lastError: z.string().optional(),
    /**
     * Set once the firing needs nothing more (served and pruned, or let go) under this policy
     * (`settledKey`): later ticks skip the image listing until the next firing or a policy change.
     */
    settledFor: z.string().optional(),
    /** Images already reported as kept by a safety rule for this firing (each is reported once per firing). */
    heldReported: z.array(z.string()).optional(),
  })
  .strict();
export type SnapshotAttempts = z.infer<typeof SnapshotAttemptsSchema>;

export type SnapshotPhase =
  | "not-due" // no firing within the grace period and none in flight
  | "due" // a snapshot step is planned this tick
  | "in-progress" // the firing's image is queued/saving
  | "done" // the firing's image is active
  | "exhausted" // every attempt for the firing failed
  | "no-source"; // nothing to snapshot: no suitable ACTIVE member

export interface SnapshotStatus {
  phase: SnapshotPhase;
  /** The latest firing <= now (ISO, UTC), or null when the cron has never fired. */
  firing: string | null;
  /** The end of the firing's grace period: after it a missing snapshot is no longer taken. */
  graceUntil: string | null;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  /** The image serving the latest firing (active or in flight), if any. */
  image: SnapshotImageSummary | null;
  /** Active snapshots of the group novascale made, before this tick's pruning. */
  activeCount: number;
  /** keepLast (or its older name keep), null when only calendar rules are set. */
  keep: number | null;
  /** Snapshots a safety rule keeps although retention would delete them, and why ("kept: in use by 3 servers"). */
  heldBack: Array<{ id: string; name: string; reason: string }>;
  /** Every snapshot of the group, newest first: what retention decides now, and why. */
  retention: Array<{ id: string; name: string; action: "keep" | "delete"; reason: string }>;
}

/** Something observed (not done) this tick, reported once: the activity log turns it into an entry. */
export type SnapshotObservation =
  | { kind: "confirmed"; group: string; firing: string; imageId: string; imageName: string }
  | { kind: "failed"; group: string; firing: string; imageId: string; imageName: string; reason: string }
  | { kind: "held"; group: string; firing: string; imageId: string; imageName: string; reason: string };

export interface SnapshotPlanInput {
  group: string;
  policy: SnapshotPolicy;
  /** The group's servers (non-members are ignored all the same). */
  members: readonly ObservedServer[];
  /** The group's images by our properties (others are ignored all the same). */
  images: readonly ObservedImage[];
  /** From the group's state; undefined when nothing was remembered. */
  attempts: SnapshotAttempts | undefined;
  now: Date;
  /** What else in the project needs images (the cron tick gathers it); without it retention deletes nothing. */
  guard?: RetentionGuard | undefined;
}

export interface SnapshotPlan {
  steps: Step[];
  notices: Notice[];
  observations: SnapshotObservation[];
  /** State after observing (before executing the steps): store it, then update it with the step results. */
  attempts: SnapshotAttempts | undefined;
  status: SnapshotStatus;
  /** Every snapshot of the group, keep or delete, with the reason (newest first). */
  retention: RetentionDecision[];
}

/** Identifies the policy a firing was settled under: a changed policy (e.g. a smaller `keep`) looks again. */
export function settledKey(policy: SnapshotPolicy): string {
  return JSON.stringify(policy);
}

/**
 * True when this tick can skip the cloud: the latest firing was settled under this very policy.
 * Costs no request, so a group with snapshots adds one image listing per firing, not one per tick.
 */
export function isSettled(policy: SnapshotPolicy, attempts: SnapshotAttempts | undefined, now: Date): boolean {
  if (attempts?.settledFor !== settledKey(policy)) return false;
  return latestCronFiring(policy.cron, policy.timezone, now)?.toISOString() === attempts.firing;
}

/** Newest first: by firing, then creation time, then id (a total order, so plans are deterministic). */
function newestFirst(a: ObservedImage, b: ObservedImage): number {
  const fa = Date.parse(imageFiring(a) ?? a.created);
  const fb = Date.parse(imageFiring(b) ?? b.created);
  if (fa !== fb) return fb - fa;
  const ca = Date.parse(a.created);
  const cb = Date.parse(b.created);
  if (ca !== cb) return cb - ca;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function createdAt(server: ObservedServer): number {
  const t = Date.parse(server.created);
  return Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t;
}

/**
 * The source candidates in preference order: ACTIVE members with no task under way (a server already
 * snapshotting answers 409), filtered by the policy's metadata, ordered oldest or newest first, ties by id.
 */
export function snapshotCandidates(group: string, source: SnapshotPolicy["source"], members: readonly ObservedServer[]): ObservedServer[] {
  const wanted = typeof source === "object" ? source.metadata : {};
  const candidates = members.filter(
    (s) =>
      isMember(s, group) &&
      s.status.toUpperCase() === "ACTIVE" &&
      (s.taskState === undefined || s.taskState === null || s.taskState === "") &&
      Object.entries(wanted).every(([k, v]) => s.metadata[k] === v),
  );
  const direction = source === "newest" ? -1 : 1;
  return candidates.sort((a, b) => {
    const d = createdAt(a) - createdAt(b);
    if (d !== 0) return d * direction;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

export function describeSource(source: SnapshotPolicy["source"]): string {
  if (typeof source === "string") return `${source} ACTIVE member`;
  const pairs = Object.entries(source.metadata).map(([k, v]) => `${k}=${v}`);
  return `oldest ACTIVE member with ${pairs.join(", ") || "any metadata"}`;
}

/** Plans one tick of a group's snapshot policy: observe, maybe take one, maybe prune. */
export function planSnapshots(input: SnapshotPlanInput): SnapshotPlan {
  const { group, policy, members, now } = input;
  const own = input.images.filter((image) => isOwnSnapshot(image, group));
  const firingDate = latestCronFiring(policy.cron, policy.timezone, now);
  const firing = firingDate?.toISOString();
  const graceUntil = firingDate === undefined ? undefined : new Date(firingDate.getTime() + policy.graceHours * 3_600_000);

  const steps: Step[] = [];
  const notices: Notice[] = [];
  const observations: SnapshotObservation[] = [];
  const activeCount = own.filter((image) => statusOf(image) === DONE).length;
  const retention = groupRetention({ group, policy, images: own, now, guard: input.guard });
  const heldBack = retention.filter((d) => d.heldBack).map((d) => ({ id: d.image.id, name: d.image.name, reason: d.reason }));

  const baseStatus = {
    firing: firing ?? null,
    graceUntil: graceUntil?.toISOString() ?? null,
    maxAttempts: policy.maxAttempts,
    activeCount,
    keep: policy.keepLast ?? policy.keep ?? null,
    heldBack,
    retention: retention.map((d) => ({ id: d.image.id, name: d.image.name, action: d.action, reason: d.reason })),
  };

  if (firingDate === undefined || firing === undefined || graceUntil === undefined) {
    return {
      steps,
      notices,
      observations,
      attempts: input.attempts,
      status: { ...baseStatus, phase: "not-due", attempts: 0, lastError: null, image: null },
      retention,
    };
  }

  // What this firing has seen so far: remembered only while it is the latest firing.
  const remembered = input.attempts?.firing === firing ? input.attempts : undefined;
  // A manual snapshot never stands in for the nightly one, even one taken within the firing's second.
  const forFiring = own.filter((image) => imageFiring(image) === firing && !isManualSnapshot(image, group, policy)).sort(newestFirst);
  const listedIds = new Set(input.images.map((image) => image.id));
  const vanishedIds = (remembered?.imageIds ?? []).filter((id) => !listedIds.has(id));
  const failedImages = forFiring.filter((image) => statusOf(image) !== DONE && !isImageInProgress(image.status));
  const done = forFiring.find((image) => statusOf(image) === DONE);
  const inFlight = forFiring.find((image) => isImageInProgress(image.status));

  // Each image is one attempt; state also counts createImage calls that failed before an image existed.
  const attemptsUsed = Math.max(remembered?.attempts ?? 0, forFiring.length + vanishedIds.length);
  const alreadyReported = new Set(remembered?.failedImageIds ?? []);
  for (const image of failedImages) {
    if (alreadyReported.has(image.id)) continue;
    observations.push({
      kind: "failed",
      group,
      firing,
      imageId: image.id,
      imageName: image.name,
      reason: `snapshot image ended '${statusOf(image)}'`,
    });
  }
  for (const id of vanishedIds) {
    if (alreadyReported.has(id)) continue;
    const reason = id === remembered?.confirmedImageId ? "snapshot image was deleted after it became active" : "snapshot image vanished before it became active";
    observations.push({ kind: "failed", group, firing, imageId: id, imageName: "", reason });
  }
  if (done !== undefined && remembered?.confirmedImageId !== done.id) {
    observations.push({ kind: "confirmed", group, firing, imageId: done.id, imageName: done.name });
  }

  const nextAttempts: SnapshotAttempts = {
    firing,
    attempts: attemptsUsed,
    imageIds: [...new Set([...(remembered?.imageIds ?? []), ...forFiring.map((image) => image.id)])],
    failedImageIds: [...new Set([...alreadyReported, ...failedImages.map((image) => image.id), ...vanishedIds])],
  };
  const confirmedImageId = done?.id ?? remembered?.confirmedImageId;
  if (confirmedImageId !== undefined) nextAttempts.confirmedImageId = confirmedImageId;
  if (remembered?.lastError !== undefined) nextAttempts.lastError = remembered.lastError;

  const status: SnapshotStatus = {
    ...baseStatus,
    phase: "not-due",
    attempts: attemptsUsed,
    lastError: nextAttempts.lastError ?? null,
    image: done !== undefined ? summarizeImage(done, group, policy) : inFlight !== undefined ? summarizeImage(inFlight, group, policy) : null,
  };
  const withinGrace = now.getTime() <= graceUntil.getTime();

  if (done !== undefined) {
    status.phase = "done";
    steps.push(...retentionSteps(group, retention, firing));
    const reported = new Set(remembered?.heldReported ?? []);
    for (const held of heldBack) {
      if (!reported.has(held.id)) observations.push({ kind: "held", group, firing, imageId: held.id, imageName: held.name, reason: held.reason });
    }
    if (heldBack.length > 0 || reported.size > 0) nextAttempts.heldReported = [...new Set([...reported, ...heldBack.map((h) => h.id)])];
  } else if (inFlight !== undefined) {
    status.phase = "in-progress";
  } else if (!withinGrace) {
    status.phase = "not-due";
    // Only after attempts: a policy added in the afternoon has not "missed" that night.
    if (attemptsUsed > 0) {
      notices.push({
        level: "warning",
        code: "snapshot-missed",
        message: `no active snapshot of group '${group}' for the firing at ${firing}; its ${policy.graceHours} h grace period ended at ${graceUntil.toISOString()}`,
      });
    }
  } else if (attemptsUsed >= policy.maxAttempts) {
    status.phase = "exhausted";
    notices.push({
      level: "error",
      code: "snapshot-attempts-exhausted",
      message: `all ${policy.maxAttempts} snapshot attempts of group '${group}' for the firing at ${firing} failed; the next firing tries again`,
    });
  } else {
    // On a retry, prefer a server whose snapshot has not already failed for this firing.
    const failedSources = new Set(failedImages.map((image) => image.properties[IMAGE_SOURCE_SERVER_KEY]));
    const candidates = snapshotCandidates(group, policy.source, members);
    const source = candidates.find((s) => !failedSources.has(s.id)) ?? candidates[0];
    if (source === undefined) {
      status.phase = "no-source";
      notices.push({
        level: "warning",
        code: "snapshot-no-source",
        message: `group '${group}' has no ${describeSource(policy.source)} to snapshot for the firing at ${firing}`,
      });
    } else {
      status.phase = "due";
      const attempt = attemptsUsed + 1;
      const lateMinutes = Math.floor((now.getTime() - firingDate.getTime()) / 60_000);
      const late = lateMinutes >= 5 ? `, caught up ${lateMinutes} min late` : "";
      steps.push({
        kind: "snapshot",
        group,
        serverId: source.id,
        serverName: source.name,
        imageName: snapshotImageName(group, policy, firing),
        firing,
        attempt,
        reason:
          `snapshot schedule '${policy.cron}' (${policy.timezone}) fired at ${firing} and no snapshot exists for it${late}; ` +
          `source: ${describeSource(policy.source)}; attempt ${attempt} of ${policy.maxAttempts}`,
      });
    }
  }

  // Nothing to do and nothing to say: the firing is settled until the next one (or a policy change).
  // Deletions that wait for a project-wide view (a tick from the API, not cron) keep the firing open for the cron tick.
  const waiting = retention.some((d) => d.deferred);
  if (steps.length === 0 && notices.length === 0 && !waiting && (status.phase === "done" || status.phase === "not-due")) nextAttempts.settledFor = settledKey(policy);
  return { steps, notices, observations, attempts: nextAttempts, status, retention };
}

/**
 * The deletions retention decided, oldest first (so a capped tick removes the oldest and the rest follow
 * next tick). Only the group's own snapshots were ever handed to it.
 */
function retentionSteps(group: string, retention: readonly RetentionDecision[], firing: string): Step[] {
  return retention
    .filter((d) => d.action === "delete")
    .reverse()
    .slice(0, MAX_IMAGE_DELETES_PER_TICK)
    .map((d): Step => ({
      kind: "deleteImage",
      group,
      imageId: d.image.id,
      imageName: d.image.name,
      reason: `retention of group '${group}': ${d.reason} (snapshot of ${d.at}${d.manual ? ", manual" : ""}); the snapshot for ${firing} is active`,
    }));
}
