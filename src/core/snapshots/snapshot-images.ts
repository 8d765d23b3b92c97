// A group's snapshot images: the properties and names that identify them, and the group's retention over them.
import type { SnapshotPolicy } from "../model/rules.ts";
import {
  IMAGE_FIRING_KEY,
  IMAGE_GROUP_KEY,
  IMAGE_KIND_KEY,
  IMAGE_KIND_MANUAL,
  IMAGE_MADE_BY_KEY,
  IMAGE_MADE_BY_VALUE,
  IMAGE_SOURCE_SERVER_KEY,
  isOwnSnapshot,
} from "../model/membership.ts";
import { decideRetention, type CalendarRetention, type RetentionDecision, type RetentionGuard, type RetentionSnapshot } from "./retention.ts";
import { latestCronFiring } from "../schedule/schedule.ts";
import type { ObservedImage } from "../model/types.ts";

export interface SnapshotImageSummary {
  /** Taken on request: never the nightly one, bounded by keepManual. */
  manual: boolean;
  id: string;
  name: string;
  status: string;
  firing: string | null;
  sourceServer: string | null;
  created: string;
}

/** The group policy's calendar rules: `keep` is the older name of keepLast. */
export function groupRetentionRules(policy: SnapshotPolicy): CalendarRetention {
  return {
    keepLast: policy.keepLast ?? policy.keep,
    keepDaily: policy.keepDaily,
    keepWeekly: policy.keepWeekly,
    keepMonthly: policy.keepMonthly,
    keepYearly: policy.keepYearly,
    keepWithin: policy.keepWithin,
  };
}

/** The properties that mark an image as novascale's snapshot of `group`, from `serverId`, for `firing` (or a manual one). */
export function snapshotProperties(group: string, serverId: string, firing: string, manual = false): Record<string, string> {
  return {
    [IMAGE_MADE_BY_KEY]: IMAGE_MADE_BY_VALUE,
    [IMAGE_GROUP_KEY]: group,
    [IMAGE_SOURCE_SERVER_KEY]: serverId,
    [IMAGE_FIRING_KEY]: firing,
    ...(manual ? { [IMAGE_KIND_KEY]: IMAGE_KIND_MANUAL } : {}),
  };
}

/**
 * A snapshot taken on request: marked so (`novascale:kind=manual`), or, made before that mark existed,
 * named exactly as a manual one of its time. Never the nightly one, never counted toward the nightly rules.
 */
export function isManualSnapshot(image: ObservedImage, group: string, policy: Pick<SnapshotPolicy, "namePrefix"> | undefined): boolean {
  if (image.properties[IMAGE_KIND_KEY] === IMAGE_KIND_MANUAL) return true;
  const firing = imageFiring(image);
  return image.properties[IMAGE_KIND_KEY] === undefined && firing !== null && image.name === snapshotImageName(group, policy, firing, true);
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

const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The firing an image was taken for, normalised, or null when the property is missing or malformed. */
export function imageFiring(image: ObservedImage): string | null {
  const raw = image.properties[IMAGE_FIRING_KEY];
  if (raw === undefined) return null;
  // What novascale writes is already normal (toISOString); only other forms need parsing (hot: every image, every tick).
  if (CANONICAL_ISO.test(raw)) return raw;
  const t = Date.parse(raw);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

export function statusOf(image: ObservedImage): string {
  return image.status.toLowerCase();
}

function retentionSnapshot(image: ObservedImage, group: string, policy: SnapshotPolicy | undefined): RetentionSnapshot {
  return { image, at: imageFiring(image) ?? image.created, manual: isManualSnapshot(image, group, policy), source: image.properties[IMAGE_SOURCE_SERVER_KEY] ?? null };
}

/** The group's retention: every own snapshot decided keep or delete with its reason (the preview, the tick and the tests call this). */
export function groupRetention(input: {
  group: string;
  policy: SnapshotPolicy;
  images: readonly ObservedImage[];
  now: Date;
  guard: RetentionGuard | undefined;
}): RetentionDecision[] {
  const { group, policy, now } = input;
  return decideRetention({
    snapshots: input.images.filter((image) => isOwnSnapshot(image, group)).map((image) => retentionSnapshot(image, group, policy)),
    rules: groupRetentionRules(policy),
    keepManual: policy.keepManual,
    timezone: policy.timezone,
    now,
    latestFiring: latestCronFiring(policy.cron, policy.timezone, now)?.toISOString() ?? null,
    perSource: false,
    guard: input.guard,
    stuckAfterMs: policy.graceHours * 3_600_000,
  });
}

export function summarizeImage(image: ObservedImage, group: string, policy: SnapshotPolicy | undefined): SnapshotImageSummary {
  return {
    manual: isManualSnapshot(image, group, policy),
    id: image.id,
    name: image.name,
    status: statusOf(image),
    firing: imageFiring(image),
    sourceServer: image.properties[IMAGE_SOURCE_SERVER_KEY] ?? null,
    created: image.created,
  };
}

