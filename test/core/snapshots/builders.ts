// Builders for snapshot tests: servers, images and policies that read like the rules they test.
import { SnapshotPolicySchema, type SnapshotPolicy } from "../../../src/config/group.ts";
import { GROUP_KEY, IMAGE_FIRING_KEY, IMAGE_KIND_KEY, IMAGE_KIND_MANUAL, IMAGE_GROUP_KEY, IMAGE_MADE_BY_KEY, IMAGE_MADE_BY_VALUE, IMAGE_SOURCE_SERVER_KEY } from "../../../src/core/model/membership.ts";
import type { RetentionGuard } from "../../../src/core/snapshots/retention.ts";
import type { ObservedImage, ObservedServer } from "../../../src/core/model/types.ts";

/** A project where nothing else needs any image: retention follows its rules alone. */
export const NO_GUARD: RetentionGuard = { namedById: {}, namedByName: {}, inUse: {} };

/** "30 2 * * *" in Europe/Berlin: 02:30 CET is 01:30Z in November. */
export const NIGHTLY = { cron: "30 2 * * *", timezone: "Europe/Berlin" } as const;

export function policy(overrides: Partial<Parameters<typeof SnapshotPolicySchema.parse>[0]> = {}): SnapshotPolicy {
  return SnapshotPolicySchema.parse({ ...NIGHTLY, keep: 3, ...overrides });
}

/** The nightly firing (01:30Z) of a November day, as the planner writes it. */
export function firingOn(day: number): string {
  return `2026-11-${String(day).padStart(2, "0")}T01:30:00.000Z`;
}

export function at(iso: string): Date {
  return new Date(iso);
}

export function server(o: { id: string; status?: string; group?: string | null; created?: string; metadata?: Record<string, string>; taskState?: string | null }): ObservedServer {
  const metadata: Record<string, string> = { ...(o.metadata ?? {}) };
  if (o.group !== null) metadata[GROUP_KEY] = o.group ?? "web";
  return {
    id: o.id,
    name: `srv-${o.id}`,
    status: o.status ?? "ACTIVE",
    taskState: o.taskState ?? null,
    created: o.created ?? "2026-11-01T00:00:00Z",
    metadata,
  };
}

/** An image; by default novascale's own snapshot of `web` for `firing`. `madeBy: null` drops the mark. */
export function image(o: {
  id: string;
  firing?: string;
  status?: string;
  group?: string | null;
  madeBy?: string | null;
  source?: string;
  created?: string;
  name?: string;
  /** Marked as taken on request (novascale:kind=manual). */
  manual?: boolean;
}): ObservedImage {
  const properties: Record<string, string> = {};
  if (o.madeBy !== null) properties[IMAGE_MADE_BY_KEY] = o.madeBy ?? IMAGE_MADE_BY_VALUE;
  if (o.group !== null) properties[IMAGE_GROUP_KEY] = o.group ?? "web";
  if (o.firing !== undefined) properties[IMAGE_FIRING_KEY] = o.firing;
  properties[IMAGE_SOURCE_SERVER_KEY] = o.source ?? "a";
  if (o.manual === true) properties[IMAGE_KIND_KEY] = IMAGE_KIND_MANUAL;
  return {
    id: o.id,
    name: o.name ?? `img-${o.id}`,
    status: o.status ?? "active",
    created: o.created ?? o.firing ?? "2026-11-01T00:00:00Z",
    properties,
  };
}

/** Active own snapshots for the nights `from`..`to` (ids `night-<day>`). */
export function nights(from: number, to: number, extra: { source?: string; group?: string } = {}): ObservedImage[] {
  const out: ObservedImage[] = [];
  for (let day = from; day <= to; day++) out.push(image({ id: `night-${day}`, firing: firingOn(day), ...extra }));
  return out;
}
