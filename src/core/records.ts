// The records a group's reconciles leave behind (ticks, step results, errors, activity, pause, boot block): plain types shared by core, store and reconcile.
import type { RefreshProgress } from "./scaling/refresh-plan.ts";
import type { PolicyStatus, PolicyStep } from "./snapshots/policy-snapshots.ts";
import type { Desired, Notice, Step } from "./model/types.ts";

/** How a group is doing, as its last tick left it. */
export type GroupHealth =
  | "steady" // actual == desired, nothing to do
  | "converging" // steps were taken (or servers are building) towards desired
  | "paused" // rules.paused or an operator pause: no actions
  | "capacity-limited" // quota (or per-tick caps) kept it from booting everything wanted
  | "error" // booting is blocked (a 400 on boot) or the tick failed
  | "unknown"; // no tick has run yet

/** Error categories, as the OpenStack client classifies failures (plus ours). */
export type ErrorCategory = "config" | "quota" | "auth" | "notFound" | "transient" | "cloud" | "internal";

/** A failure, as shown to operators (never carries tokens or passwords). */
export interface ErrorInfo {
  /** What we were doing: "list servers", "boot", "delete server abc", "resolve image 'cirros'", ... */
  operation: string;
  category: ErrorCategory;
  message: string;
  /** HTTP status from the cloud, when there was one. */
  status?: number;
  /** x-openstack-request-id, to quote to the cloud's operators. */
  requestId?: string;
  /** The X-OpenStack-Request-Id novascale sent with every call of that tick: the cloud's logs show it as the global request id. */
  tickRequestId?: string;
  /** The request was never sent (the tick's budget or deadline kept it back): the cloud cannot have acted. */
  notSent?: boolean;
}

/** An operator pause (the group's rules may also say `paused: true`). */
export interface PauseState {
  by: string;
  reason?: string;
  at: string;
}

/** Booting stopped after Nova answered 400 to a boot; lifted only by a newer revision of the rules. */
export interface BootBlock {
  /** The rules' etag the failure happened with. */
  etag: string;
  /** The rules' revision the failure happened with (absent in blocks written before revisions existed). */
  revision?: number;
  reason: string;
  at: string;
  requestId?: string;
}

/** What happened to one executed step. */
export interface StepResult {
  step: Step;
  /** "unknown": the request went out but the answer was lost; the next listing tells (boot intent marker). */
  outcome: "done" | "failed" | "unknown" | "skipped";
  /** Servers a boot created (Nova names only the first of a multi-create). */
  serverIds?: string[];
  /** The image a snapshot created, or the image a deleteImage step was about. */
  imageId?: string;
  error?: ErrorInfo;
  /** A boot whose answer was lost: when (ISO, the tick's clock: its `now` plus the time elapsed in the tick) its request was sent; its hold counts from here. */
  sentAt?: string;
}

/** The record of one reconcile of one group (cron tick or manual). */
export interface TickRecord {
  /** The tick's `now` (cron: controller.scheduledTime). */
  at: string;
  trigger: "cron" | "manual";
  author?: string;
  rulesEtag: string;
  /** The revision of the rules this reconcile acted on (the newest the group's object knew). */
  rulesRevision?: number;
  desired: Desired;
  /** Servers of the group by Nova status, as listed before acting. */
  actualByStatus: Record<string, number>;
  /** Servers that count toward capacity (ACTIVE, BUILD, transitional, unknown). */
  counted: number;
  /** Servers the group has parked (stopped or shelved by it, or on their way there); absent before parking existed. */
  parked?: number;
  listing: "complete" | "failed";
  /** Steps after per-tick caps, quota and boot block: what was (or, in a preview, would be) executed. */
  steps: Step[];
  results: StepResult[];
  notices: Notice[];
  errors: ErrorInfo[];
  health: GroupHealth;
  /** Set when the same outcome repeated on later ticks without being rewritten (steady ticks write nothing). */
  lastSeenAt?: string;
  /** The X-OpenStack-Request-Id (req-<uuid>) sent with every cloud call of this tick: grep Nova's and Keystone's logs for it. */
  tickRequestId?: string;
  /** Steps the tick's budget (subrequests or time) left for the next tick, which serves this group first. */
  deferred?: Deferral;
  /** The rolling refresh as this reconcile saw it (absent: none open). */
  refresh?: RefreshView;
  /** Set when this request's `now` was older than the newest the group already reconciled at: nothing was done (notice stale-tick). */
  stale?: { appliedNow: string };
}

/** A rolling refresh as status and plan show it: the pinned target, how far it got, and why it halted. */
export interface RefreshView {
  targetImageId: string;
  /** The rules' preferred flavor when the refresh started (members on a listed fallback stay while it is unavailable). */
  targetFlavor?: string;
  startedAt: string;
  trigger: "drift" | "manual";
  ignoreWindow: boolean;
  replaced: number;
  failed: number;
  halted?: { reason: string; at: string };
  completedAt?: string;
  progress?: RefreshProgress;
}

/** Why and how much of a group's work waits for the next tick. */
export interface Deferral {
  /** "subrequests": the tick's subrequest budget ran short; "deadline": its time ran out. */
  reason: "subrequests" | "deadline";
  /** Steps planned but not started (boot steps and deletes). */
  steps: number;
  message: string;
}

export type ActivityKind =
  | "boot"
  | "boot-failed"
  | "boot-unknown"
  | "delete"
  | "delete-failed"
  | "park"
  | "park-failed"
  | "unpark"
  | "unpark-failed"
  | "error"
  | "boot-blocked"
  | "refresh-requested"
  | "refresh-started"
  | "refresh-halted"
  | "refresh-completed"
  | "refresh-cancelled"
  | "boot-unblocked"
  | "boot-backoff"
  | "boot-backoff-ended"
  | "capacity-limited"
  | "flavor-unavailable"
  | "override-set"
  | "override-cleared"
  | "override-expired"
  | "pause"
  | "resume"
  | "rules-changed"
  | "group-deleted"
  | "policy-deleted"
  | "snapshot"
  | "snapshot-confirmed"
  | "snapshot-failed"
  | "image-deleted"
  | "image-kept"
  | "servers-adopted"
  | "resume-failed"
  | "signal"
  | "signal-cleared"
  | "signal-expired"
  | "receiver-created"
  | "receiver-revoked";

/** One line of a group's activity log (bounded; newest first when read). */
export interface ActivityEntry {
  at: string;
  kind: ActivityKind;
  /** Who: an API token name, or "cron". */
  author: string;
  /** Why, in words: the step's reason, the override's reason, the error's message. */
  reason: string;
  serverIds?: string[];
  imageId?: string;
  count?: number;
  error?: ErrorInfo;
  /** The tick's X-OpenStack-Request-Id, on boots and deletes: finds the call in the cloud's logs. */
  tickRequestId?: string;
  /**
   * On failures (boot-failed, boot-blocked, boot-backoff, error): the group's count the failure keeps it
   * at (`from`: servers counted) and the one it was heading for (`to`: desired). What a notification says.
   */
  counts?: { from: number; to: number };
  /** The same entry seen again (all but times and request ids equal): how often, first and last time. `at` is the last. */
  repeated?: { count: number; firstAt: string; lastAt: string };
}

/** The record of one run of a snapshot policy (cron tick or manual), kept by the policy's Durable Object. */
export interface PolicyRunRecord {
  /** The tick's `now`. */
  at: string;
  trigger: "cron" | "manual";
  author: string;
  rulesEtag: string;
  rulesRevision: number;
  /** The planner's view of the latest firing; null when the policy's images could not be listed. */
  status: PolicyStatus | null;
  /** The steps sent this run (after the ledger and the budget). */
  steps: PolicyStep[];
  notices: Notice[];
  errors: ErrorInfo[];
  /** Steps the tick's budget left for the next tick, which runs this policy first. */
  deferred?: Deferral;
  /** Set when the same outcome repeated on later runs without being rewritten. */
  lastSeenAt?: string;
}

/** One cloud-region as the last tick saw it (stored with the tick's figures; GET /v1/clouds and /metrics read it, never the cloud). */
export interface CloudStatusRecord {
  cloud: string;
  /** null: the cloud names no region (the catalog's first endpoint of each service is used). */
  region: string | null;
  /** The tick that listed it. */
  at: string;
  listing: "complete" | "failed";
  /** Servers in the listing (all of the project's, members or not). */
  servers?: number;
  /** The error of the last tick whose listing failed (redacted), kept until a later one fails. */
  lastError?: { at: string; operation: string; category: ErrorCategory; message: string };
  /** The last tick whose listing of it was complete (kept across failing ticks). */
  lastSuccessAt?: string;
  tokenExpiresAt?: string;
  computeEndpoint?: string;
  imageEndpoint?: string;
  computeMicroversion?: string;
  discoveryFallback?: string;
  images?: "glance-v2" | "nova-proxy";
  /** /limits as last read (a tick reads it only when some group boots), with when. */
  limits?: { at: string; value: Record<string, number | null> };
}
