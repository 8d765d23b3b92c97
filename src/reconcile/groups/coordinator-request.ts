// What a reconcile hands the group's Durable Object (ReconcileRequest) and what the object shows (CoordinatorState).
import type { FlavorMark } from "../../core/scaling/flavors.ts";
import type { Override } from "../../config/group.ts";
import type { ParkedSpan } from "../../core/scaling/parking.ts";
import type { RetentionGuard } from "../../core/snapshots/retention.ts";
import type { ObservedServer } from "../../core/model/types.ts";
import type { BootBackoff } from "../../core/scaling/boot-backoff.ts";
import type { LiveSignal } from "../../core/schedule/signals.ts";
import type { BootBlock, PauseState, StoredGroup, TickRecord } from "../shared/service.ts";
import type { RefreshView } from "../../core/records.ts";

export interface ReconcileRequest {
  group: StoredGroup;
  /** ISO-8601: the tick's scheduledTime, or the API request's clock. */
  now: string;
  trigger: "cron" | "manual";
  author: string;
  /** The tick's listing of this group's members, and when it was started (wall-clock ms). */
  listing?: { members: ObservedServer[]; listedAt: number } | { error: TickRecord["errors"][number]; listedAt: number };
  /** The X-OpenStack-Request-Id the gateway sends with every call (one per tick), recorded with the outcome. */
  tickRequestId?: string;
  /** The cron tick's view of what else needs images (every group's image, every server's): snapshot retention's guard. */
  imageGuard?: RetentionGuard;
}

export interface CoordinatorState {
  override: Override | null;
  pause: PauseState | null;
  bootBlock: BootBlock | null;
  /** Repeated boot failures and until when boots wait (null: none). */
  bootBackoff: BootBackoff | null;
  lastTick: TickRecord | null;
  /** Spans of time the group's servers spent parked (last 30 days). */
  parking: ParkedSpan[];
  /** The receivers' signals as stored (expired ones stay until the next reconcile drops them). */
  signals: LiveSignal[];
  /** Flavors marked unavailable by capacity or quota refusals (core/scaling/flavors.ts). */
  flavorMarks: FlavorMark[];
  /** The rolling refresh as stored (null: none ever started), with the last tick's progress while open. */
  refresh: RefreshView | null;
  /** A manual start waiting for the next reconcile. */
  refreshRequest: { author: string; at: string; ignoreWindow: boolean } | null;
}

/** What "retry boots" cleared (`cleared: false`: booting was not stopped, nothing changed). */
export interface RetryBootsAnswer {
  cleared: boolean;
  bootBlock: BootBlock | null;
  bootBackoff: BootBackoff | null;
}
