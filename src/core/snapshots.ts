// Pure snapshot planner: is there a snapshot for the latest firing (within grace)? which source? what to prune?
import { z } from "zod";
import type { SnapshotPolicy } from "../config/group.ts";
import {
  IMAGE_FIRING_KEY,
  IMAGE_GROUP_KEY,
  IMAGE_MADE_BY_KEY,
  IMAGE_MADE_BY_VALUE,
  IMAGE_SOURCE_SERVER_KEY,
  isMember,
  isOwnSnapshot,
} from "./membership.ts";
import { latestCronFiring } from "./schedule.ts";
import type { Notice, ObservedImage, ObservedServer, Step } from "./types.ts";

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
const IN_PROGRESS = new Set(["queued", "saving", "uploading", "importing"]);
const DONE = "active";
/** Failed images retention removes once a newer snapshot is active (the rest are gone already, or not ours to judge). */
const CLEANABLE_FAILED = new Set(["killed", "error"]);

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

export interface SnapshotImageSummary {
  id: string;
  name: string;
  status: string;
  firing: string | null;
  sourceServer: string | null;
  created: string;
}

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
  keep: number;
}

/** Something observed (not done) this tick, reported once: the activity log turns it into an entry. */
export type SnapshotObservation =
  | { kind: "confirmed"; group: string; firing: string; imageId: string; imageName: string }
  | { kind: "failed"; group: string; firing: string; imageId: string; imageName: string; reason: string };

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
}

export interface SnapshotPlan {
  steps: Step[];
  notices: Notice[];
  observations: SnapshotObservation[];
  /** State after observing (before executing the steps): store it, then update it with the step results. */
  attempts: SnapshotAttempts | undefined;
  status: SnapshotStatus;
}

/** Identifies the policy a firing was settled under: a changed policy (e.g. a smaller `keep`) looks again. */
export function settledKey(policy: SnapshotPolicy): string {
  return JSON.stringify([policy.cron, policy.timezone, policy.keep, policy.graceHours, policy.maxAttempts, policy.source, policy.namePrefix ?? null]);
}

/**
 * True when this tick can skip the cloud: the latest firing was settled under this very policy.
 * Costs no request, so a group with snapshots adds one image listing per firing, not one per tick.
 */
export function isSettled(policy: SnapshotPolicy, attempts: SnapshotAttempts | undefined, now: Date): boolean {
  if (attempts?.settledFor !== settledKey(policy)) return false;
  return latestCronFiring(policy.cron, policy.timezone, now)?.toISOString() === attempts.firing;
}

/** The properties that mark an image as novascale's snapshot of `group`, from `serverId`, for `firing`. */
export function snapshotProperties(group: string, serverId: string, firing: string): Record<string, string> {
  return {
    [IMAGE_MADE_BY_KEY]: IMAGE_MADE_BY_VALUE,
    [IMAGE_GROUP_KEY]: group,
    [IMAGE_SOURCE_SERVER_KEY]: serverId,
    [IMAGE_FIRING_KEY]: firing,
  };
}

/** The Glance filter that lists a group's own snapshots. */
export function ownSnapshotFilter(group: string): Record<string, string> {
  return { [IMAGE_MADE_BY_KEY]: IMAGE_MADE_BY_VALUE, [IMAGE_GROUP_KEY]: group };
}

/** `2026-11-26T01:30:00.000Z` -> `20261126T0130Z`: sortable, readable, safe in an image name. */
function compactUtc(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, "0");
  const seconds = d.getUTCSeconds() === 0 ? "" : p(d.getUTCSeconds());
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T${p(d.getUTCHours())}${p(d.getUTCMinutes())}${seconds}Z`;
}

/** e.g. `web-snapshot-20261126T0130Z`; a manual one: `web-snapshot-manual-20261126T1403Z`. */
export function snapshotImageName(group: string, policy: Pick<SnapshotPolicy, "namePrefix"> | undefined, firing: string, manual = false): string {
  const prefix = policy?.namePrefix ?? `${group}-snapshot`;
  return `${prefix}-${manual ? "manual-" : ""}${compactUtc(firing)}`;
}

/** The firing an image was taken for, normalised, or null when the property is missing or malformed. */
export function imageFiring(image: ObservedImage): string | null {
  const raw = image.properties[IMAGE_FIRING_KEY];
  if (raw === undefined) return null;
  const t = Date.parse(raw);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

function statusOf(image: ObservedImage): string {
  return image.status.toLowerCase();
}

export function summarizeImage(image: ObservedImage): SnapshotImageSummary {
  return {
    id: image.id,
    name: image.name,
    status: statusOf(image),
    firing: imageFiring(image),
    sourceServer: image.properties[IMAGE_SOURCE_SERVER_KEY] ?? null,
    created: image.created,
  };
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

function describeSource(source: SnapshotPolicy["source"]): string {
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
  const activeOwn = own.filter((image) => statusOf(image) === DONE).sort(newestFirst);

  const baseStatus = {
    firing: firing ?? null,
    graceUntil: graceUntil?.toISOString() ?? null,
    maxAttempts: policy.maxAttempts,
    activeCount: activeOwn.length,
    keep: policy.keep,
  };

  if (firingDate === undefined || firing === undefined || graceUntil === undefined) {
    return {
      steps,
      notices,
      observations,
      attempts: input.attempts,
      status: { ...baseStatus, phase: "not-due", attempts: 0, lastError: null, image: null },
    };
  }

  // What this firing has seen so far: remembered only while it is the latest firing.
  const remembered = input.attempts?.firing === firing ? input.attempts : undefined;
  const forFiring = own.filter((image) => imageFiring(image) === firing).sort(newestFirst);
  const listedIds = new Set(input.images.map((image) => image.id));
  const vanishedIds = (remembered?.imageIds ?? []).filter((id) => !listedIds.has(id));
  const failedImages = forFiring.filter((image) => statusOf(image) !== DONE && !IN_PROGRESS.has(statusOf(image)));
  const done = forFiring.find((image) => statusOf(image) === DONE);
  const inFlight = forFiring.find((image) => IN_PROGRESS.has(statusOf(image)));

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
    image: done !== undefined ? summarizeImage(done) : inFlight !== undefined ? summarizeImage(inFlight) : null,
  };
  const withinGrace = now.getTime() <= graceUntil.getTime();

  if (done !== undefined) {
    status.phase = "done";
    steps.push(...planRetention(group, policy, own, activeOwn, firing, now));
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
  if (steps.length === 0 && notices.length === 0 && (status.phase === "done" || status.phase === "not-due")) nextAttempts.settledFor = settledKey(policy);
  return { steps, notices, observations, attempts: nextAttempts, status };
}

/**
 * Retention, run only once the latest firing's snapshot is active (never delete the old before the new
 * is active): keep the newest `keep` active snapshots of the group, whichever server they came from, and
 * clean up failed (killed) attempts. Only images novascale made for this group are ever candidates.
 */
function planRetention(group: string, policy: SnapshotPolicy, own: readonly ObservedImage[], activeOwn: readonly ObservedImage[], firing: string, now: Date): Step[] {
  const steps: Step[] = [];
  const excess = activeOwn.slice(policy.keep);
  // Oldest first, so a capped tick removes the oldest and the rest follow next tick.
  for (const image of [...excess].reverse()) {
    steps.push({
      kind: "deleteImage",
      group,
      imageId: image.id,
      imageName: image.name,
      reason: `retention: group '${group}' keeps its ${policy.keep} newest active snapshots; this one (firing ${imageFiring(image) ?? image.created}) is older, and the snapshot for ${firing} is active`,
    });
  }
  for (const image of own.filter((i) => CLEANABLE_FAILED.has(statusOf(i))).sort(newestFirst).reverse()) {
    steps.push({
      kind: "deleteImage",
      group,
      imageId: image.id,
      imageName: image.name,
      reason: `cleanup: snapshot attempt for ${imageFiring(image) ?? "an unknown firing"} ended '${statusOf(image)}', and the snapshot for ${firing} is active`,
    });
  }
  // A snapshot of an earlier firing still queued/saving long after it was made will not finish (its
  // compute host gave up); it would linger forever, never active and never pruned.
  const stuckBefore = now.getTime() - policy.graceHours * 3_600_000;
  const stuck = own.filter((i) => {
    const f = imageFiring(i);
    return IN_PROGRESS.has(statusOf(i)) && f !== null && f < firing && Date.parse(i.created) < stuckBefore;
  });
  for (const image of stuck.sort(newestFirst).reverse()) {
    steps.push({
      kind: "deleteImage",
      group,
      imageId: image.id,
      imageName: image.name,
      reason: `cleanup: snapshot for ${imageFiring(image)} has been '${statusOf(image)}' since ${image.created}, and the snapshot for ${firing} is active`,
    });
  }
  return steps.slice(0, MAX_IMAGE_DELETES_PER_TICK);
}

export interface ManualSnapshotInput {
  group: string;
  policy: SnapshotPolicy | undefined;
  members: readonly ObservedServer[];
  now: Date;
  /** Who asked, for the reason. */
  author: string;
  serverId?: string;
}

/** "Take one now" from the API: a snapshot step for the chosen (or policy-chosen) ACTIVE member, or why not. */
export function planManualSnapshot(input: ManualSnapshotInput): { step: Step | null; notice: Notice | null } {
  const { group, policy, members, now, author } = input;
  const firing = new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString();
  const source = policy?.source ?? "oldest";
  const candidates = snapshotCandidates(group, input.serverId === undefined ? source : "oldest", members);
  const chosen = input.serverId === undefined ? candidates[0] : candidates.find((s) => s.id === input.serverId);
  if (chosen === undefined) {
    const what = input.serverId === undefined ? `no ${describeSource(source)}` : `no ACTIVE member with id '${input.serverId}' and no task under way`;
    return { step: null, notice: { level: "warning", code: "snapshot-no-source", message: `group '${group}' has ${what} to snapshot` } };
  }
  return {
    step: {
      kind: "snapshot",
      group,
      serverId: chosen.id,
      serverName: chosen.name,
      imageName: snapshotImageName(group, policy, firing, true),
      firing,
      attempt: 1,
      reason: `manual snapshot requested by ${author}`,
    },
    notice: null,
  };
}
