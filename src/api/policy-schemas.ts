// zod schemas for the snapshot-policy routes' answers (documentation for /openapi.json; the rules body is config/snapshot-policy.ts).
import { z } from "zod";
import { SnapshotPolicyRulesSchema } from "../config/snapshot-policy.ts";
import { DeferralSchema, ErrorInfoSchema, NoticeSchema, PauseStateSchema, PlanQuerySchema, RevisionSchema } from "./schemas.ts";

const SummaryShape = { name: z.string(), etag: z.string(), revision: RevisionSchema, updatedAt: z.string(), updatedBy: z.string() };

export const PolicyListSchema = z.object({ policies: z.array(z.object(SummaryShape)) }).meta({ id: "SnapshotPolicyList" });

export const StoredPolicySchema = z.object({ ...SummaryShape, rules: SnapshotPolicyRulesSchema }).meta({ id: "StoredSnapshotPolicy" });

const PolicyStepSchema = z
  .object({
    kind: z.enum(["snapshot", "deleteImage"]),
    policy: z.string(),
    reason: z.string(),
    serverId: z.string().optional(),
    serverName: z.string().optional(),
    imageId: z.string().optional(),
    imageName: z.string().optional(),
    firing: z.string().optional(),
    attempt: z.number().int().optional(),
  })
  .meta({ id: "PolicyStep" });

export const PolicyStatusSchema = z
  .object({
    firing: z.string().nullable().meta({ description: "the latest firing <= the run's time" }),
    graceUntil: z.string().nullable().meta({ description: "after this, a missing snapshot for the firing is no longer taken" }),
    health: z.enum(["ok", "stale", "paused"]).meta({ description: "stale: some selected server's newest snapshot is older than two firings" }),
    servers: z.array(
      z.object({
        serverId: z.string(),
        serverName: z.string(),
        phase: z.enum(["done", "in-progress", "due", "waiting", "busy", "exhausted", "missed", "not-due"]),
        newest: z.string().nullable().meta({ description: "the firing of its newest active snapshot" }),
        stale: z.boolean(),
      }),
    ),
    inFlight: z.number().int().meta({ description: "uploads in flight against maxConcurrent; stuck ones are not counted" }),
    maxConcurrent: z.number().int(),
    stuck: z
      .array(
        z.object({
          imageId: z.string(),
          imageName: z.string(),
          serverId: z.string().nullable(),
          status: z.string(),
          since: z.string().meta({ description: "when the upload started (the image's created time)" }),
          firing: z.string().nullable(),
        }),
      )
      .optional()
      .meta({ description: "uploads of an earlier firing still queued/saving after graceHours: not counted in inFlight, deleted by retention (absent in runs recorded before this field)" }),
  })
  .meta({ id: "PolicyStatus" });

const PolicyRunSchema = z
  .object({
    at: z.string(),
    trigger: z.enum(["cron", "manual"]),
    author: z.string(),
    rulesEtag: z.string(),
    rulesRevision: z.number().int(),
    status: PolicyStatusSchema.nullable(),
    steps: z.array(PolicyStepSchema).meta({ description: "what the run sent (after its ledger and the tick's budget)" }),
    notices: z.array(NoticeSchema),
    errors: z.array(ErrorInfoSchema),
    deferred: DeferralSchema.optional(),
    lastSeenAt: z.string().optional().meta({ description: "later runs with the same outcome (not written again)" }),
  })
  .meta({ id: "PolicyRun" });

export const PolicyViewSchema = z
  .object({
    ...SummaryShape,
    rules: SnapshotPolicyRulesSchema,
    cloud: z.string().meta({ description: "the cloud it runs in (the rules' `cloud`, default `default`)" }),
    region: z.string().nullable().meta({ description: "the region it runs in (the rules' `region`, default the cloud's first; null: the cloud names none)" }),
    groupElsewhere: z
      .string()
      .nullable()
      .meta({ description: "the policy selects a group that runs in another cloud-region (so it backs up none of its servers), and what to set; null: no such mismatch" }),
    status: PolicyStatusSchema.nullable().meta({ description: "the last run's view; null before the first run" }),
    pause: PauseStateSchema.nullable(),
    lastRun: PolicyRunSchema.nullable(),
    deferred: DeferralSchema.nullable().meta({ description: "what the last tick left for the next one (its budget ran short); null: nothing" }),
  })
  .meta({ id: "SnapshotPolicy" });

export const RetentionQuerySchema = PlanQuerySchema;

export const RetentionPreviewSchema = z
  .object({
    policy: z.string(),
    at: z.string(),
    firing: z.string().nullable(),
    paused: z.boolean().meta({ description: "paused (rules or operator): a run deletes nothing" }),
    guard: z.enum(["complete", "unavailable"]).meta({ description: "unavailable: some rules entry is unreadable, so nothing would be deleted" }),
    images: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        status: z.string(),
        sourceServer: z.string().nullable(),
        firing: z.string(),
        action: z.enum(["keep", "delete"]),
        reason: z.string().meta({ description: "e.g. 'daily 2026-11-29, weekly 2026-W48', 'not kept by keepDaily 3', 'kept: in use by 1 server(s)'" }),
        heldBack: z.literal(true).optional().meta({ description: "a safety rule keeps it although the rules alone would delete it" }),
      }),
    ),
  })
  .meta({ id: "RetentionPreview" });

export const DeletePolicyResultSchema = z
  .object({
    removed: z.literal(true),
    revision: z.number().int().meta({ description: "the revision the deletion was recorded as (a re-created policy continues after it)" }),
  })
  .meta({ id: "DeletePolicyResult" });

export const PolicyActivitySchema = z
  .object({ entries: z.array(z.looseObject({ at: z.string(), kind: z.string(), author: z.string(), reason: z.string() })) })
  .meta({ id: "PolicyActivity" });
