// The application service the HTTP API calls: group rules, overrides, pause, status, plan, reconcile, activity.
import type { FlavorMark } from "../../core/scaling/flavors.ts";
import type { GroupRules, Override } from "../../config/group.ts";
import type { HistoryPoint } from "../../core/scaling/history.ts";
import type { ParkingStatus } from "../../core/scaling/parking.ts";
import type { ActivityEntry, BootBlock, Deferral, ErrorInfo, GroupHealth, PauseState, StepResult, TickRecord } from "../../core/records.ts";
import type { RefreshExplain } from "../../core/scaling/refresh-plan.ts";
import type { Desired, Notice, ObservedServer, Step } from "../../core/model/types.ts";
import type { BootBackoff } from "../../core/scaling/boot-backoff.ts";
import type { ReferenceWarning } from "../../core/model/references.ts";
import type { NoBootReason } from "../../core/scaling/no-boot-reasons.ts";
import type { ManualSnapshotRecord } from "../../core/snapshots/manual-snapshots.ts";
import type { SnapshotImageSummary, SnapshotStatus } from "../../core/snapshots/snapshots.ts";
import type { LiveSignal } from "../../core/schedule/signals.ts";

// The implementation: `createGroupService(env: Env, options?)` in src/reconcile/group-service.ts.

// ---------------------------------------------------------------------------------------------
// Result types
// ---------------------------------------------------------------------------------------------

/** A group's rules as the registry accepted them, with the version they were written as. */
export interface StoredGroup {
  name: string;
  rules: GroupRules;
  /** Ready for an HTTP `ETag` header, quotes included (e.g. `"3f2a9c..."`); changes iff the rules change. */
  etag: string;
  /** Per group, grows with every accepted change (also across a delete and re-create); never reused. */
  revision: number;
  updatedAt: string;
  updatedBy: string;
}

/** One row of the group list: cheap (no rules body). */
export interface GroupSummary {
  name: string;
  etag: string;
  revision: number;
  updatedAt: string;
  updatedBy: string;
}

// The records of ticks and activity are plain data owned by core (store/ imports them from there).
import type { RefreshView } from "../../core/records.ts";
export type { RefreshView } from "../../core/records.ts";
export type { GroupHealth, ErrorCategory, ErrorInfo, PauseState, BootBlock, StepResult, TickRecord, Deferral, ActivityKind, ActivityEntry } from "../../core/records.ts";

/** A group's state for GET /v1/groups/{name}. */
export interface GroupStatus {
  group: StoredGroup;
  /** The cloud-region it runs in: its rules' `cloud`/`region`, defaults filled in (region null: the cloud names none). */
  cloud: string;
  region: string | null;
  /** Desired at `now` (from rules + override + signals + pause), with the rule that set it. */
  desired: Desired;
  override: Override | null;
  /** The receivers' signals live at `now` (POST /v1/signals/{id}); they raise the count while no override holds. */
  signals: LiveSignal[];
  pause: PauseState | null;
  bootBlock: BootBlock | null;
  /** Repeated boot failures while boots wait (null: boots do not wait). */
  bootBackoff: BootBackoff | null;
  /** Why boots are stopped, in a sentence ("boots blocked until <time>: <cause>"); null when they are not. */
  bootsBlocked: string | null;
  health: GroupHealth;
  /** Actual servers by state, as of the last tick (`lastTick.at`); null before the first tick. */
  actualByStatus: Record<string, number> | null;
  lastTick: TickRecord | null;
  /** Parked servers (as of the last tick) and what parking saved; null for a group that never parked. */
  parking: ParkingStatus | null;
  /** What the last tick left for the next one because its budget ran short (null: nothing). */
  deferred: Deferral | null;
  /** Which flavor new boots take and why (null: the rules name none, a power group). */
  flavors: FlavorStatus | null;
  /** The rolling refresh (target image, progress, halted reason); null: none ever started. */
  refresh: RefreshView | null;
  /** A manual start (POST .../refresh) the next tick takes up; null: none waiting. */
  refreshRequest: { author: string; at: string; ignoreWindow: boolean } | null;
}

/** How a group's flavors stand now (core/scaling/flavors.ts chooseFlavor over the stored marks). */
export interface FlavorStatus {
  /** The rules' flavors in order of preference (one for a single flavor). */
  preferences: string[];
  /** The flavor new boots take now. */
  bootsWith: string;
  fallback: boolean;
  /** "preferred flavor m1.large", or "m1.large has no room (NoValidHost), booting m1.medium until 10:30 UTC". */
  reason: string;
  /** The marks that still hold (a flavor skipped by new boots until `until`). */
  marks: FlavorMark[];
}


/** A dry run: what a reconcile at `at` would do now, changing nothing (a tick record's planning half, plus the boot block). */
export type PlanPreview = Pick<TickRecord, "at" | "desired" | "actualByStatus" | "counted" | "parked" | "listing" | "steps" | "notices" | "errors"> & {
  bootBlock: BootBlock | null;
  /** Why fewer servers boot than are missing (desired - counted), one per cause; empty when boots cover it (core/scaling/no-boot-reasons.ts). */
  noBootReasons: NoBootReason[];
  /** The rolling refresh as this reconcile would run it (null: the group has none, open or past). */
  refresh: PlanRefresh | null;
};

/**
 * A refresh in the dry run: its pinned target and progress (RefreshView), where it stands, and this tick's
 * decision per member (replace / wait / delete-failed / roll-back / keep, each with its reason) and per cause.
 */
export type PlanRefresh = RefreshView &
  RefreshExplain & {
    /** open: it replaces or boots this tick; waiting: open, but nothing moves this tick (`waits` says why); halted; completed. */
    phase: "open" | "waiting" | "halted" | "completed";
    /** True when this reconcile would start it (drift seen, or a manual start waiting). */
    startsNow: boolean;
  };

/** The group's servers as listed now (GET /v1/groups/{name}/members), with what its image and flavor resolve to. */
export interface MembersListing {
  /** When the listing was taken (ISO). */
  listedAt: string;
  /** The group's members (tagged with its name), or the listing's error. */
  servers: ObservedServer[] | null;
  error: ErrorInfo | null;
  /** The image and flavor the rules name, resolved as a boot would (null: the rules name none, e.g. a power group). */
  image: ResolvedRef | null;
  /** The preferred (first) flavor, resolved. */
  flavor: ResolvedRef | null;
  /** Every flavor of the rules in order of preference, resolved (one entry for a single flavor; empty for none). */
  flavors: ResolvedRef[];
  /** The flavor marks that hold now: a member's "why" says a fallback is in force. */
  flavorMarks: FlavorMark[];
}

/** A resource reference resolved to its id and name, or the reason it could not be. */
export type ResolvedRef = { id: string; name: string } | { error: ErrorInfo };

/** What POST /v1/groups/{name}/retry-boots cleared. */
export interface RetryBootsResult {
  bootBlock: BootBlock | null;
  bootBackoff: BootBackoff | null;
}

/** A server a forced group delete left running (no longer managed once the rules are gone). */
export interface ServerRef {
  id: string;
  name: string;
  status: string;
}

export interface OverrideInput {
  desired: number;
  /** ISO-8601 with offset; must be after now. */
  until: string;
  reason: string;
  author: string;
}

/** A group's snapshots for GET /v1/groups/{name}/snapshots. */
export interface SnapshotListing {
  group: string;
  /** The policy's view of the latest firing; null when the group has no snapshot policy. */
  status: SnapshotStatus | null;
  notices: Notice[];
  /** The group's snapshots novascale made, newest first (any status). */
  snapshots: SnapshotImageSummary[];
}

/** What POST /v1/groups/{name}/snapshots did (or replayed). */
export interface TakeSnapshotResult {
  /** null when no member could be snapshotted (see `notice`) or the servers could not be listed (see `error`). */
  step: Step | null;
  result: StepResult | null;
  notice: Notice | null;
  activity: ActivityEntry[];
  /** Set when the snapshot was not taken because of the cloud (listing or createImage failed). */
  error: ErrorInfo | null;
  /** The answer is an earlier one (same Idempotency-Key, or a repeat while it is still in progress), and why. */
  replayed: string | null;
  /** The Idempotency-Key was used before for another request: refused, nothing taken. */
  keyReused: ManualSnapshotRecord | null;
  /** The manual-snapshot log to store (unchanged when nothing new was taken). */
  log: ManualSnapshotRecord[];
}

// ---------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------

/**
 * Everything the API needs. All methods throw the ServiceError subclasses below (never raw
 * OpenStack or KV errors); the API maps `error.status` / `error.code` to HTTP once.
 */
export interface GroupService {
  listGroups(): Promise<GroupSummary[]>;
  /** null when there is no such group; throws CorruptRecordError when its KV value is unreadable. */
  getGroup(name: string): Promise<StoredGroup | null>;
  /**
   * Create or replace. `ifMatch` is the raw If-Match header value (`*`, `"etag"`, a list, W/ ok):
   * a mismatch (or `*` with no group) throws PreconditionFailedError. `ifNoneMatch: "*"` means create only.
   * Writing the same rules again writes nothing and returns the same etag (`created: false`).
   * A change that would strand servers novascale did not boot (power -> elastic, park -> delete) throws
   * ConflictError (details.count, details.servers) unless `adopt` is true; then they are recorded as the
   * group's own first (core/scaling/adoption.ts).
   * Before writing, what the rules name (image, flavors, key pair) is looked up in the cloud (a bounded
   * number of calls and time): `warnings` lists what does not resolve, or `cloud-unreachable`. With
   * `strict`, a problem throws InvalidRequestError (details.warnings) and a cloud that could not answer
   * throws CloudUnavailableError; nothing is written then.
   */
  putGroup(
    name: string,
    rules: GroupRules,
    opts: { ifMatch?: string; ifNoneMatch?: string; author: string; adopt?: boolean; strict?: boolean },
  ): Promise<{ etag: string; created: boolean; group: StoredGroup; warnings: ReferenceWarning[] }>;
  /**
   * Removes the rules (and the group's overrides, pause and records; the activity log stays, ending with
   * the deletion). Decided in the group's Durable Object after any running reconcile. Without `force`, throws
   * ConflictError (details.servers) while the group still has servers, and CloudUnavailableError
   * when that cannot be checked. With `force`, removes the rules and lists the servers left behind.
   */
  deleteGroup(name: string, opts: { force: boolean; author: string }): Promise<{ removed: true; revision: number; serversLeftBehind: ServerRef[] }>;
  /** Throws NotFoundError, InvalidRequestError (until not in the future). `now` defaults to the clock. */
  setOverride(name: string, input: OverrideInput, now?: Date): Promise<Override>;
  /** `cleared: false` when there was none. */
  clearOverride(name: string, author: string): Promise<{ cleared: boolean; previous: Override | null }>;
  pause(name: string, author: string, reason?: string): Promise<PauseState>;
  resume(name: string, author: string): Promise<{ resumed: boolean }>;
  /** Lifts the boot block and ends the backoff: the next tick boots again. Throws ConflictError when boots were not stopped. */
  retryBoots(name: string, author: string): Promise<RetryBootsResult>;
  /** POST .../refresh: the next tick starts a rolling refresh (ConflictError: the rules have no `refresh`). */
  startRefresh(name: string, author: string, ignoreWindow: boolean): Promise<{ requested: { author: string; at: string; ignoreWindow: boolean } }>;
  /** DELETE .../refresh: drops a waiting start, halts an open refresh. */
  cancelRefresh(name: string, author: string): Promise<{ cancelled: boolean }>;
  /** No cloud calls: desired is computed at `now`, actual comes from the last tick. */
  status(name: string, now: Date): Promise<GroupStatus>;
  /** Lists the group's servers live and plans as of `at`; executes nothing, records nothing. */
  planPreview(name: string, at: Date): Promise<PlanPreview>;
  /** Reconciles now (serialised with cron ticks in the group's Durable Object) and returns the record. */
  reconcileNow(name: string, author: string, now: Date): Promise<TickRecord>;
  /**
   * Newest first, at most `limit` (1..500): the activity rows merged with the changes (rules, overrides,
   * pauses, retries: their own list of 1,000, so errors never push them out). `only: "changes"`: those
   * alone (1..1000). A deleted group's log still reads (it ends with the deletion).
   */
  activity(name: string, limit: number, only?: "changes"): Promise<ActivityEntry[]>;
  /** Lists the group's servers now and resolves its image and flavor (3 cloud calls, cached token). Throws NotFoundError. */
  members(name: string): Promise<MembersListing>;
  /** Recorded desired/actual points from `since` on, oldest first, preceded by the one in force at `since`. */
  history(name: string, since: Date): Promise<HistoryPoint[]>;

  // Snapshots (issue 8): run `listSnapshots` / `takeSnapshotNow` from ./snapshots.ts in the group's Durable
  // Object (a manual snapshot is serialised with ticks); map a returned ErrorInfo with `snapshotServiceError`.
  /** Live: the group's own snapshots (any status) and, with a policy, the latest firing's state. Throws NotFoundError, CloudUnavailableError. */
  listSnapshots(name: string, now: Date): Promise<SnapshotListing>;
  /**
   * Takes one now (from the policy's source, or `serverId` if it is a member). Throws NotFoundError;
   * ConflictError when no member can be snapshotted or Nova refuses; CloudUnavailableError when the cloud cannot answer.
   */
  takeSnapshot(name: string, input: { author: string; serverId?: string; force?: boolean; idempotencyKey?: string }, now: Date): Promise<TakeSnapshotResult>;
}

// ---------------------------------------------------------------------------------------------
// Errors (the API maps `status` to HTTP and `code` to the error body)
// ---------------------------------------------------------------------------------------------

export type ServiceErrorCode =
  | "not_found"
  | "precondition_failed"
  | "conflict"
  | "invalid_request"
  | "cloud_unavailable"
  | "corrupt_record";

export class ServiceError extends Error {
  readonly code: ServiceErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: ServiceErrorCode, status: number, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** No such group (404). */
export class NotFoundError extends ServiceError {
  constructor(message: string) {
    super("not_found", 404, message);
  }
}

/** If-Match / If-None-Match did not hold (412). */
export class PreconditionFailedError extends ServiceError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("precondition_failed", 412, message, details);
  }
}

/** The request conflicts with the group's state, e.g. deleting a group that still has servers (409). */
export class ConflictError extends ServiceError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("conflict", 409, message, details);
  }
}

/** Well-formed but not acceptable, e.g. an override that already expired (422). */
export class InvalidRequestError extends ServiceError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("invalid_request", 422, message, details);
  }
}

/** The cloud is not configured or could not be reached for an answer this request needs (503). */
export class CloudUnavailableError extends ServiceError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("cloud_unavailable", 503, message, details);
  }
}

/** A stored record (KV value) that does not parse; reported, not crashed on (500). */
export class CorruptRecordError extends ServiceError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("corrupt_record", 500, message, details);
  }
}
