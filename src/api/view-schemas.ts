// zod schemas for the read views the dashboard needs: a rules preview (timeline + occurrences), members, server-hours.
import { z } from "zod";
import { ErrorInfoSchema, FlavorMarkSchema } from "./schemas.ts";

const ChangePoint = z.object({ at: z.string(), value: z.number().int(), reason: z.string(), source: z.string() });
const Occurrence = z.object({ at: z.string(), until: z.string().optional() });

export const PREVIEW_MAX_HOURS = 24 * 14;

export const PreviewQuerySchema = z.object({
  hours: z.coerce.number().int().min(1).max(PREVIEW_MAX_HOURS).default(168).meta({ description: `how far ahead, 1..${PREVIEW_MAX_HOURS} hours (default 168: a week)` }),
  count: z.coerce.number().int().min(1).max(20).default(3).meta({ description: "occurrences listed per rule (default 3)" }),
});

export const RulesPreviewSchema = z
  .object({
    from: z.string(),
    hours: z.number().int(),
    points: z.array(ChangePoint).meta({ description: "the desired count the rules alone give (no override, no pause), as change points; the first is the value now" }),
    truncated: z.boolean(),
    through: z.string(),
    occurrences: z.object({
      schedules: z.array(z.object({ index: z.number().int(), kind: z.enum(["cron", "at", "window"]), next: z.array(Occurrence) })),
      exceptions: z.array(
        z.object({
          index: z.number().int(),
          name: z.string(),
          next: z.array(z.object({ date: z.string(), from: z.string(), until: z.string(), names: z.array(z.string()) })),
        }),
      ),
    }),
  })
  .meta({ id: "RulesPreview" });

const Resolved = z.union([z.object({ id: z.string(), name: z.string() }), z.object({ error: ErrorInfoSchema })]).nullable();

export const MemberSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.string(),
    taskState: z.string().nullable(),
    created: z.string(),
    addresses: z.array(z.string()).meta({ description: "every IP address Nova lists for it" }),
    imageId: z.string().nullable(),
    flavor: z.string().nullable().meta({ description: "the flavor it runs (the rules' name for it, else the listing's name or id); null when the listing does not say" }),
    flavorWhy: z.enum(["preferred", "fallback", "not-in-rules", "unknown"]).meta({ description: "the first of the rules' flavors, a later one (booted while the preferred was marked unavailable), or none of them" }),
    flavorReason: z.string().meta({ description: "the same in a sentence: 'fallback: m1.large has no room (NoValidHost) until 10:30 UTC'" }),
    protected: z.boolean().meta({ description: "novascale:protected is set: scale-in never picks it" }),
    parkedSince: z.string().nullable().meta({ description: "when novascale parked it (its park mark), null when not parked" }),
    fault: z.string().nullable(),
    link: z.string().nullable().meta({ description: "the server in the cloud's own dashboard, when NOVASCALE_SERVER_LINK is set" }),
  })
  .meta({ id: "Member" });

export const MembersSchema = z
  .object({
    listedAt: z.string(),
    servers: z.array(MemberSchema).nullable().meta({ description: "null when the listing failed (see error)" }),
    error: ErrorInfoSchema.nullable(),
    image: Resolved.meta({ description: "what the rules' image resolves to now (null: the rules name none)" }),
    flavor: Resolved.meta({ description: "what the preferred (first) flavor resolves to now" }),
    flavors: z.array(Resolved.unwrap()).meta({ description: "every flavor of the rules in order of preference, resolved" }),
    flavorMarks: z.array(FlavorMarkSchema).meta({ description: "flavors new boots skip now (capacity or quota refusals)" }),
  })
  .meta({ id: "Members" });

const Span = z.object({
  coveredHours: z.number().meta({ description: "hours of the span the recorded history covers (less than the span for a young group)" }),
  run: z.number().meta({ description: "server-hours of servers in a running state" }),
  saved: z.number().meta({ description: "max x coveredHours - run: saved against running max servers all the time" }),
  desired: z.number().meta({ description: "server-hours the group wanted" }),
});

export const ServerHoursSchema = z
  .object({ at: z.string(), max: z.number().int(), last7Days: Span, last30Days: Span })
  .meta({ id: "ServerHours" });
