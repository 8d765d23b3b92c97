// The public rules format of a snapshot policy (nightly snapshots of any servers, selected by metadata or group), as zod schemas.
import { z } from "zod";
import { CloudNameSchema, RegionNameSchema } from "./placement.ts";
import type * as Core from "../core/model/rules.ts";
import { checkCronInZone, CronSchema, type Exactly, type MirroredInCore, GroupNameSchema, RESERVED_METADATA_PREFIX, RETENTION_RULE_KEYS, RetentionRulesShape, TimeZoneSchema } from "./group.ts";

/** Policy names follow group names' rules (they appear in image properties and URLs). */
export const PolicyNameSchema = GroupNameSchema;

export const PolicySelectSchema = z.union([
  z
    .object({
      metadata: z
        .record(z.string().min(1).max(255), z.string().max(255))
        .refine((m) => Object.keys(m).length > 0, { message: "select at least one metadata key" })
        .refine((m) => Object.keys(m).every((k) => !k.startsWith(RESERVED_METADATA_PREFIX)), {
          message: `keys starting with '${RESERVED_METADATA_PREFIX}' are novascale's own; select a group's servers with { "group": "<name>" }`,
        }),
    })
    .strict(),
  z.object({ group: GroupNameSchema }).strict(),
]);
export type PolicySelect = z.infer<typeof PolicySelectSchema>;

export const PolicyRetentionSchema = z
  .object(RetentionRulesShape)
  .strict()
  .refine((r) => RETENTION_RULE_KEYS.some((k) => r[k] !== undefined), { message: `give at least one of ${RETENTION_RULE_KEYS.join(", ")}` });

export const SnapshotPolicyRulesSchema = z
  .object({
    select: PolicySelectSchema,
    cron: CronSchema,
    timezone: TimeZoneSchema.default("UTC"),
    retention: PolicyRetentionSchema,
    namePrefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,60}$/, "letters, digits, '.', '_' and '-', at most 61 characters").optional(),
    /** createImage calls in flight at once for this policy; the rest follow on later ticks within the grace period. */
    maxConcurrent: z.number().int().min(1).max(50).default(2),
    graceHours: z.number().min(0.25).max(48).default(6),
    /** Failed snapshots of one server for one firing before novascale gives up on it until the next firing. */
    maxAttempts: z.number().int().min(1).max(10).default(3),
    paused: z.boolean().default(false),
    /** The cloud and region whose servers it selects (as a group's; default `default` and its first region). */
    cloud: CloudNameSchema.optional(),
    region: RegionNameSchema.optional(),
  })
  .strict()
  .superRefine(checkCronInZone);
export type SnapshotPolicyRules = z.infer<typeof SnapshotPolicyRulesSchema>;
export type SnapshotPolicyRulesInput = z.input<typeof SnapshotPolicyRulesSchema>;

// The core decides on its own plain types (core/rules.ts); the parsed shapes must be exactly those.
export type PolicyShapesMatchCore = [MirroredInCore<Exactly<SnapshotPolicyRules, Core.SnapshotPolicyRules>>, MirroredInCore<Exactly<PolicySelect, Core.PolicySelect>>];
