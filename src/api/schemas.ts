// zod schemas for what the API accepts (bodies, queries) and returns; the same schemas feed /openapi.json.
import { z } from "zod";
import { ROLES } from "./context.ts";
import { GroupNameSchema, GroupRulesSchema, OverrideSchema, ReasonSchema } from "../config/group.ts";

const isoDateTime = z.iso.datetime({ offset: true, message: "ISO-8601 date-time with an offset, e.g. 2026-12-24T18:00:00+01:00" });

/** Longest override one request may set: 30 days. Longer holds belong in the rules. */
export const MAX_OVERRIDE_MINUTES = 30 * 24 * 60;

export const GroupNameParamSchema = GroupNameSchema.meta({ description: "group name", example: "web" });

/** PUT /v1/groups/{name}/override. Exactly one of `until` and `minutes`. */
export const OverrideRequestSchema = z
  .object({
    desired: z.number().int().min(0).max(10_000).meta({ description: "server count to hold (still clamped to the group's [min, max])" }),
    until: isoDateTime.optional().meta({ description: "when the override ends (ISO-8601 with offset)" }),
    minutes: z.number().int().min(1).max(MAX_OVERRIDE_MINUTES).optional().meta({ description: "or: how long it lasts, from now" }),
    reason: ReasonSchema.meta({ description: "why; shown in status and the activity log (one line, no control characters)" }),
  })
  .strict()
  .superRefine((o, ctx) => {
    if ((o.until === undefined) === (o.minutes === undefined)) {
      ctx.addIssue({ code: "custom", path: ["until"], message: "give exactly one of 'until' (ISO-8601) and 'minutes'" });
    }
  })
  .meta({ id: "OverrideRequest" });
export type OverrideRequest = z.output<typeof OverrideRequestSchema>;

/** POST /v1/groups/{name}/pause: an optional reason. */
export const PauseRequestSchema = z
  .object({ reason: ReasonSchema.optional() })
  .strict()
  .meta({ id: "PauseRequest" });

/** POST bodies that take no fields (resume, reconcile): empty or `{}`. */
export const EmptyRequestSchema = z.object({}).strict().meta({ id: "EmptyRequest" });

const booleanFlag = z.enum(["true", "false", "1", "0", ""]).transform((v) => v === "true" || v === "1");

export const DeleteGroupQuerySchema = z.object({
  force: booleanFlag.optional().meta({ description: "true: remove the rules even while servers remain; they are listed, not deleted" }),
});

export const PutGroupQuerySchema = z.object({
  adopt: booleanFlag
    .optional()
    .meta({ description: "true: hand the group's servers novascale did not boot to it when the change would strand them (power -> elastic, park -> delete); without it such a change is 409" }),
  strict: booleanFlag
    .optional()
    .meta({
      description:
        "true: refuse rules whose image, flavor or key pair the cloud does not have (422, details.warnings) and answer 503 when the cloud cannot be asked; nothing is written then. Default: write and answer with `warnings`",
    }),
});

export const PlanQuerySchema = z.object({
  at: isoDateTime.optional().meta({ description: "plan as of this moment (default: now)" }),
});

export const MAX_TIMELINE_HOURS = 24 * 14;
export const TimelineQuerySchema = z.object({
  hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_TIMELINE_HOURS)
    .default(24)
    .meta({ description: `how far ahead, 1..${MAX_TIMELINE_HOURS} hours (default 24)` }),
});

export const ActivityQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(50)
    .meta({ description: "newest first, 1..500 (default 50); with only=changes 1..1000" }),
  only: z
    .enum(["changes"])
    .optional()
    .meta({ description: "changes: only who changed what (rules, overrides, pauses, boot retries), kept apart from the capped rows (1,000 kept)" }),
});

// ------------------------------------------------------------------------------------------------
// Responses (documentation: the service builds these; the schemas describe them for /openapi.json)
// ------------------------------------------------------------------------------------------------

const StepSchema = z
  .object({
    kind: z.enum(["boot", "delete", "park", "resume", "unmark", "snapshot", "deleteImage"]),
    group: z.string(),
    reason: z.string(),
    count: z.number().int().optional(),
    action: z.enum(["shelve", "stop", "unshelve", "start"]).optional().meta({ description: "park: shelve or stop; resume: unshelve or start" }),
    takesQuota: z.boolean().optional().meta({ description: "resume: an unshelve from SHELVED_OFFLOADED takes cores and RAM again" }),
    serverId: z.string().optional(),
    serverName: z.string().optional(),
    imageId: z.string().optional(),
    imageName: z.string().optional(),
  })
  .meta({ id: "Step", description: "one action, with the reason it is taken" });

const DesiredSchema = z
  .object({
    value: z.number().int(),
    reason: z.string(),
    source: z.enum(["paused", "override", "signal", "exception", "window", "schedule", "default", "min"]),
    unclamped: z.number().int().optional(),
    since: z.string().optional().meta({ description: "since when the deciding rule holds (schedule firing, override creation)" }),
  })
  .meta({ id: "Desired" });

const ParkingStatusSchema = z
  .object({
    parked: z.array(z.object({ id: z.string(), name: z.string(), since: z.string() })),
    serverHoursParked: z.object({ last7Days: z.number(), last30Days: z.number() }),
  })
  .meta({ id: "ParkingStatus", description: "servers parked now (as of the last tick) and server-hours spent parked" });

const ErrorInfoSchema = z
  .object({
    operation: z.string(),
    category: z.enum(["config", "quota", "auth", "notFound", "transient", "cloud", "internal"]),
    message: z.string(),
    status: z.number().int().optional(),
    requestId: z.string().optional().meta({ description: "the cloud's own id of the failed call (x-openstack-request-id)" }),
    tickRequestId: z.string().optional().meta({ description: "the X-OpenStack-Request-Id novascale sent with every call of that tick" }),
    notSent: z.boolean().optional().meta({ description: "the request never left: the tick's budget or deadline kept it back" }),
  })
  .meta({ id: "ErrorInfo" });

const DeferralSchema = z
  .object({
    reason: z.enum(["subrequests", "deadline"]),
    steps: z.number().int().meta({ description: "boot steps and deletes planned but not started" }),
    message: z.string(),
  })
  .meta({ id: "Deferral", description: "work the tick's budget left for the next tick, which serves this group first" });

const NoticeSchema = z.object({ level: z.enum(["info", "warning", "error"]), code: z.string(), message: z.string() }).meta({ id: "Notice" });

const ByStatusSchema = z.record(z.string(), z.number().int()).meta({ description: "server count by Nova status" });

const RevisionSchema = z
  .number()
  .int()
  .positive()
  .meta({ description: "per group, grows with every accepted change (also across a delete and re-create); never reused" });

export const StoredGroupSchema = z
  .object({
    name: z.string(),
    rules: GroupRulesSchema,
    etag: z.string(),
    revision: RevisionSchema,
    updatedAt: z.string(),
    updatedBy: z.string(),
  })
  .meta({ id: "StoredGroup" });

export const ReferenceWarningSchema = z
  .object({
    field: z.string().meta({ description: "the rules' field: image, flavor (flavor.N in a list), keyName; cloud for policy-elsewhere" }),
    code: z.enum(["not-found", "ambiguous", "not-usable", "cloud-unreachable", "policy-elsewhere"]).meta({
      description: "policy-elsewhere: a snapshot policy selects this group but runs in another cloud-region (never refuses the write, strict or not)",
    }),
    message: z.string().meta({ description: "in a sentence; an unknown name comes with the closest names the cloud has" }),
  })
  .meta({ id: "ReferenceWarning" });

/** PUT/PATCH answers: the stored group and what its references' check found. */
export const GroupWriteSchema = StoredGroupSchema.extend({
  warnings: z.array(ReferenceWarningSchema).meta({ description: "what the rules name that the cloud does not resolve (empty: all resolved); the write stands" }),
}).meta({ id: "GroupWrite" });

export const GroupListSchema = z
  .object({
    groups: z.array(z.object({ name: z.string(), etag: z.string(), revision: RevisionSchema, updatedAt: z.string(), updatedBy: z.string() })),
  })
  .meta({ id: "GroupList" });

/** A rolling refresh (issue 31): the image id pinned at its start, its progress, and why it halted. */
export const RefreshViewSchema = z
  .object({
    targetImageId: z.string().meta({ description: "the image id pinned when the refresh started" }),
    targetFlavor: z
      .string()
      .optional()
      .meta({ description: "the rules' preferred flavor when it started; members on a listed fallback stay while the preferred one is marked unavailable" }),
    startedAt: z.string(),
    trigger: z.enum(["drift", "manual"]),
    ignoreWindow: z.boolean(),
    replaced: z.number().int().meta({ description: "old members deleted, each after a new one was ready" }),
    failed: z.number().int().meta({ description: "new servers that failed (ERROR, or unhealthy past the grace)" }),
    halted: z.object({ reason: z.string(), at: z.string() }).optional(),
    completedAt: z.string().optional(),
    progress: z
      .object({
        old: z.number().int(),
        oldParked: z.number().int(),
        newReady: z.number().int(),
        newPending: z.number().int(),
        failed: z.number().int(),
        replaced: z.number().int(),
        inService: z.number().int(),
        minInService: z.number().int(),
        inWindow: z.boolean(),
        nextWindowAt: z.string().optional().meta({ description: "outside every window: when the next one opens (within a week)" }),
      })
      .optional(),
  })
  .meta({ id: "RefreshView" });

const RefreshWaitCodeSchema = z.enum(["outside-window", "min-in-service", "max-surge", "parked", "halted"]);

/** The refresh in a dry run: where it stands and this tick's decision per member and per cause. */
export const PlanRefreshSchema = RefreshViewSchema.extend({
  phase: z.enum(["open", "waiting", "halted", "completed"]).meta({ description: "open: it replaces or boots this tick; waiting: nothing moves this tick (see waits)" }),
  startsNow: z.boolean().meta({ description: "this tick would start it (drift seen, or a manual start waiting)" }),
  members: z
    .array(
      z.object({
        serverId: z.string(),
        serverName: z.string(),
        action: z.enum(["replace", "wait", "delete-failed", "roll-back", "keep"]),
        code: RefreshWaitCodeSchema.optional(),
        reason: z.string(),
      }),
    )
    .meta({ description: "old members replaced or left this tick, and new servers deleted (failed, or rolled back), each with its reason" }),
  boots: z.number().int().meta({ description: "new servers this tick boots on the target" }),
  waits: z.array(z.object({ code: RefreshWaitCodeSchema, message: z.string() })).meta({ description: "why it does not replace more this tick, one per cause" }),
}).meta({ id: "PlanRefresh" });

/** POST /v1/groups/{name}/refresh: start now, optionally outside the disruption windows. */
export const RefreshRequestSchema = z
  .object({ ignoreWindow: z.boolean().optional().meta({ description: "true: replace members outside the rules' disruption windows too" }) })
  .strict()
  .meta({ id: "RefreshRequest" });

export const RefreshRequestViewSchema = z
  .object({ author: z.string(), at: z.string(), ignoreWindow: z.boolean() })
  .meta({ id: "RefreshRequestView" });

export const StartRefreshResultSchema = z.object({ requested: RefreshRequestViewSchema }).meta({ id: "StartRefreshResult" });

export const CancelRefreshResultSchema = z.object({ cancelled: z.boolean() }).meta({ id: "CancelRefreshResult" });

const TickRecordSchema = z
  .object({
    at: z.string(),
    trigger: z.enum(["cron", "manual"]),
    author: z.string().optional(),
    rulesEtag: z.string(),
    rulesRevision: z.number().int().optional().meta({ description: "the revision of the rules this reconcile acted on" }),
    desired: DesiredSchema,
    actualByStatus: ByStatusSchema,
    counted: z.number().int(),
    parked: z.number().int().optional(),
    listing: z.enum(["complete", "failed"]),
    steps: z.array(StepSchema),
    results: z.array(
      z.object({
        step: StepSchema,
        outcome: z.enum(["done", "failed", "unknown", "skipped"]),
        serverIds: z.array(z.string()).optional(),
        error: ErrorInfoSchema.optional(),
        sentAt: z.string().optional().meta({ description: "a boot whose answer was lost: when its request was sent, on the tick's clock (the tick's time plus the time elapsed in it); its hold counts from here" }),
      }),
    ),
    notices: z.array(NoticeSchema),
    errors: z.array(ErrorInfoSchema),
    health: z.enum(["steady", "converging", "paused", "capacity-limited", "error", "unknown"]),
    lastSeenAt: z.string().optional(),
    tickRequestId: z.string().optional().meta({ description: "X-OpenStack-Request-Id (req-<uuid>) sent with every cloud call of this tick: Nova and Keystone log it as the global request id" }),
    deferred: DeferralSchema.optional(),
    refresh: RefreshViewSchema.optional(),
    stale: z.object({ appliedNow: z.string() }).optional().meta({ description: "set when the request's time was older than the newest one the group already reconciled at (appliedNow): nothing was done (notice stale-tick)" }),
  })
  .meta({ id: "TickRecord" });

const PauseStateSchema = z.object({ by: z.string(), reason: z.string().optional(), at: z.string() }).meta({ id: "PauseState" });
const BootBlockSchema = z
  .object({
    etag: z.string(),
    revision: z.number().int().optional().meta({ description: "the rules' revision Nova refused; only a newer revision lifts the block" }),
    reason: z.string(),
    at: z.string(),
    requestId: z.string().optional(),
  })
  .meta({ id: "BootBlock" });

const BootBackoffSchema = z
  .object({
    failures: z.number().int().meta({ description: "boot failures in a row" }),
    since: z.string(),
    lastAt: z.string(),
    until: z.string().meta({ description: "boots wait until then: 0, 1, 2, 4, 8, 16, 32, then 60 min after the 1st, 2nd, 3rd ... failure" }),
    cause: z.string().meta({ description: "the latest failure, in a sentence" }),
    revision: z.number().int(),
    counted: z.array(z.string()),
    watching: z.array(z.string()).meta({ description: "servers booted since: the first one ACTIVE ends the backoff" }),
  })
  .meta({ id: "BootBackoff" });

export const FlavorMarkSchema = z
  .object({
    flavor: z.string().meta({ description: "the rules' name of the flavor (or 'id <id>')" }),
    cause: z.string().meta({ description: "'has no room (NoValidHost)' or 'hit quota (...)'" }),
    at: z.string(),
    until: z.string().meta({ description: "new boots skip the flavor until then: 30 min, doubling (60, 120, 240) when refused again within 4 h of the last mark's end" }),
    strikes: z.number().int(),
    servers: z.array(z.string()).meta({ description: "ERROR servers already counted" }),
  })
  .meta({ id: "FlavorMark" });

export const FlavorStatusSchema = z
  .object({
    preferences: z.array(z.string()),
    bootsWith: z.string().meta({ description: "the flavor new boots take now" }),
    fallback: z.boolean(),
    reason: z.string().meta({ description: "'preferred flavor m1.large' or 'm1.large has no room (NoValidHost), booting m1.medium until 10:30 UTC'" }),
    marks: z.array(FlavorMarkSchema),
  })
  .meta({ id: "FlavorStatus" });

export const RetryBootsResultSchema = z
  .object({ bootBlock: BootBlockSchema.nullable(), bootBackoff: BootBackoffSchema.nullable() })
  .meta({ id: "RetryBootsResult", description: "what was cleared" });

export const ChangePointSchema = z
  .looseObject({ at: z.string(), value: z.number().int(), reason: z.string(), source: DesiredSchema.shape.source })
  .meta({ id: "ChangePoint", description: "from `at` on, the effective desired count is `value`, because `reason`" });

export const LiveSignalSchema = z
  .object({
    receiverId: z.string(),
    receiverName: z.string(),
    key: z.string().meta({ description: "the source within the receiver: an Alertmanager groupKey, an Aodh alarm id, a caller's key ('' for a plain call)" }),
    desired: z.number().int().meta({ description: "the least desired count while it is live" }),
    since: z.string(),
    lastAt: z.string(),
    until: z.string().meta({ description: "it stops counting here; the count falls back to the schedule" }),
    count: z.number().int().meta({ description: "signals folded into this one" }),
  })
  .meta({ id: "LiveSignal" });

export const GroupStatusSchema = z
  .object({
    name: z.string(),
    etag: z.string(),
    revision: RevisionSchema,
    rules: GroupRulesSchema,
    updatedAt: z.string(),
    updatedBy: z.string(),
    cloud: z.string().meta({ description: "the cloud it runs in (the rules' `cloud`, default `default`)" }),
    region: z.string().nullable().meta({ description: "the region it runs in (the rules' `region`, default the cloud's first; null: the cloud names none)" }),
    desired: DesiredSchema,
    health: z.enum(["steady", "converging", "paused", "capacity-limited", "error", "unknown"]),
    actualByStatus: ByStatusSchema.nullable(),
    override: OverrideSchema.nullable(),
    signals: z.array(LiveSignalSchema).meta({ description: "the receivers' signals live now: they raise desired (never above max) while no override holds" }),
    pause: PauseStateSchema.nullable(),
    bootBlock: BootBlockSchema.nullable(),
    bootBackoff: BootBackoffSchema.nullable(),
    bootsBlocked: z.string().nullable().meta({ description: "why boots are stopped: 'boots blocked until <time>: <cause>'; null when they are not" }),
    lastTick: TickRecordSchema.nullable(),
    parking: ParkingStatusSchema.nullable(),
    deferred: DeferralSchema.nullable().meta({ description: "what the last tick left for the next one (its budget ran short); null: nothing" }),
    flavors: FlavorStatusSchema.nullable().meta({ description: "which flavor new boots take and why; null for a group without a flavor (power)" }),
    refresh: RefreshViewSchema.nullable().meta({ description: "the rolling refresh: target image id, progress, halted reason; null: none ever started" }),
    refreshRequest: RefreshRequestViewSchema.nullable().meta({ description: "a manual start the next tick takes up; null: none waiting" }),
    nextChanges: z.array(ChangePointSchema).meta({ description: "the next scheduled changes of the desired count (next 24 h, at most 5)" }),
  })
  .meta({ id: "GroupStatus" });

export const PlanPreviewSchema = z
  .object({
    at: z.string(),
    desired: DesiredSchema,
    actualByStatus: ByStatusSchema,
    counted: z.number().int(),
    parked: z.number().int().optional(),
    listing: z.enum(["complete", "failed"]),
    steps: z.array(StepSchema),
    notices: z.array(NoticeSchema),
    errors: z.array(ErrorInfoSchema),
    bootBlock: BootBlockSchema.nullable(),
    noBootReasons: z
      .array(
        z.object({
          code: z.enum(["paused", "boot-backoff", "boot-blocked", "references", "quota", "max", "budget-deferred", "lost-boot-hold", "resuming-parked", "max-boots-per-tick", "power-group"]),
          message: z.string(),
        }),
      )
      .meta({ description: "why fewer servers boot than desired - counted, one entry per cause (empty: the boots cover it)" }),
    refresh: PlanRefreshSchema.nullable().meta({ description: "the rolling refresh as this tick would run it; null: none open or past" }),
  })
  .meta({ id: "PlanPreview" });

export { TickRecordSchema, PauseStateSchema, ErrorInfoSchema, NoticeSchema, DeferralSchema, RevisionSchema };

export const TimelineSchema = z
  .object({
    from: z.string(),
    hours: z.number().int(),
    points: z.array(ChangePointSchema),
    truncated: z.boolean().meta({ description: "true when the work bound stopped the walk: the points are complete only up to `through`" }),
    through: z.string().meta({ description: "ISO-8601 instant up to which the points are complete" }),
  })
  .meta({ id: "Timeline" });

export const ActivityListSchema = z
  .object({
    entries: z.array(
      z
        .looseObject({ at: z.string(), kind: z.string(), author: z.string(), reason: z.string() })
        .meta({ id: "ActivityEntry" }),
    ),
  })
  .meta({ id: "ActivityList" });

export const DeleteGroupResultSchema = z
  .object({
    removed: z.literal(true),
    revision: z.number().int().meta({ description: "the revision the deletion was recorded as (a re-created group continues after it)" }),
    serversLeftBehind: z.array(z.object({ id: z.string(), name: z.string(), status: z.string() })),
  })
  .meta({ id: "DeleteGroupResult" });

export const ClearOverrideResultSchema = z
  .object({ cleared: z.boolean(), previous: OverrideSchema.nullable() })
  .meta({ id: "ClearOverrideResult" });

export const ResumeResultSchema = z.object({ resumed: z.boolean() }).meta({ id: "ResumeResult" });

export const HealthSchema = z.object({ ok: z.literal(true) }).meta({ id: "Health" });

const CheckSchema = z.union([
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), reason: z.string().meta({ description: "why, without secrets, URLs or tokens" }) }),
]);
export const ReadinessSchema = z
  .object({ ready: z.boolean(), checks: z.object({ keystone: CheckSchema, registry: CheckSchema }) })
  .meta({ id: "Readiness" });

export const HISTORY_DEFAULT_HOURS = 48;
export const HistoryQuerySchema = z.object({
  hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_TIMELINE_HOURS)
    .default(HISTORY_DEFAULT_HOURS)
    .meta({ description: `how far back, 1..${MAX_TIMELINE_HOURS} hours (default ${HISTORY_DEFAULT_HOURS}); 14 days are kept` }),
});

export const HistorySchema = z
  .object({
    from: z.string().meta({ description: "the window's start (now minus `hours`)" }),
    hours: z.number().int(),
    points: z.array(
      z
        .object({
          at: z.string().meta({ description: "from this instant on (the first point may be older than `from`: the state at `from`)" }),
          desired: z.number().int(),
          actual: ByStatusSchema,
        })
        .meta({ id: "HistoryPoint" }),
    ),
  })
  .meta({ id: "History", description: "desired and actual servers by state, as the group's ticks saw them; a point per change" });

export const WhoAmISchema = z
  .object({ name: z.string().meta({ description: "the token's name (recorded as author)" }), role: z.enum(ROLES) })
  .meta({ id: "WhoAmI" });
