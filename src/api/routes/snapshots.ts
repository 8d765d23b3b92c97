// /v1/groups/{name}/snapshots: list the group's snapshots with the policy's state (GET), take one now (POST).
import { z } from "zod";
import { validationError } from "../errors.ts";
import { defineRoute, type AnyRouteSpec } from "../route.ts";

const TAG = "snapshots";

const SnapshotImageSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.string().meta({ description: "Glance status, lower case: queued, saving, active, killed, ..." }),
    firing: z.string().nullable().meta({ description: "the scheduled firing (or manual request time) it was taken for" }),
    sourceServer: z.string().nullable(),
    created: z.string(),
    manual: z.boolean().meta({ description: "taken on request (POST): never the nightly one, bounded by keepManual" }),
  })
  .meta({ id: "SnapshotImage" });

const SnapshotStatusSchema = z
  .object({
    phase: z.enum(["not-due", "due", "in-progress", "done", "exhausted", "no-source"]),
    firing: z.string().nullable().meta({ description: "the latest firing <= now" }),
    graceUntil: z.string().nullable().meta({ description: "after this, a missing snapshot for the firing is no longer taken" }),
    attempts: z.number().int(),
    maxAttempts: z.number().int(),
    lastError: z.string().nullable(),
    image: SnapshotImageSchema.nullable(),
    activeCount: z.number().int(),
    keep: z.number().int().nullable().meta({ description: "keepLast (or keep), null when only calendar rules are set" }),
    heldBack: z
      .array(z.object({ id: z.string(), name: z.string(), reason: z.string() }))
      .meta({ description: "snapshots a safety rule keeps although retention would delete them, e.g. 'kept: in use by 3 servers'" }),
    retention: z
      .array(z.object({ id: z.string(), name: z.string(), action: z.enum(["keep", "delete"]), reason: z.string() }))
      .meta({ description: "every snapshot of the group, newest first: what retention decides now and why ('daily 2026-11-29, weekly 2026-W48')" }),
  })
  .meta({ id: "SnapshotStatus" });

export const SnapshotListingSchema = z
  .object({
    group: z.string(),
    status: SnapshotStatusSchema.nullable().meta({ description: "null when the group has no snapshot policy" }),
    notices: z.array(z.object({ level: z.enum(["info", "warning", "error"]), code: z.string(), message: z.string() })),
    snapshots: z.array(SnapshotImageSchema).meta({ description: "images novascale made for this group, newest first" }),
  })
  .meta({ id: "SnapshotListing" });

export const TakeSnapshotRequestSchema = z
  .object({
    serverId: z.string().min(1).max(255).optional().meta({ description: "a member to snapshot (default: the policy's source)" }),
    force: z.boolean().optional().meta({ description: "take another even when a manual snapshot of a few minutes ago is still in progress" }),
  })
  .strict()
  .meta({ id: "TakeSnapshotRequest" });

export const TakenSnapshotSchema = z
  .object({
    image: z.object({ id: z.string(), name: z.string() }),
    serverId: z.string(),
    serverName: z.string(),
    firing: z.string(),
    reason: z.string(),
    replayed: z.string().nullable().meta({ description: "set when this is an earlier answer (same Idempotency-Key, or a repeat while it is in progress), saying which" }),
  })
  .meta({ id: "TakenSnapshot" });

/** Printable ASCII, as the IETF Idempotency-Key draft's examples; a UUID fits. */
const IdempotencyKeySchema = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces");

export const snapshotRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/v1/groups/{name}/snapshots",
    tag: TAG,
    summary: "The group's snapshots and the nightly policy's state",
    description:
      "Lists live from Glance: every image novascale made for this group (any status), and whether the latest firing " +
      "is served (done), under way, due, missed, or out of attempts.",
    role: "read",
    errors: [404, 503],
    responses: { 200: { description: "snapshots, newest first, and the policy's state", schema: SnapshotListingSchema } },
    async handle(c, { name, service, now }) {
      return c.json(await service.listSnapshots(name, now));
    },
  }),
  defineRoute({
    method: "post",
    path: "/v1/groups/{name}/snapshots",
    tag: TAG,
    summary: "Take a snapshot now",
    description:
      "createImage on the policy's source member (or `serverId`, which must be an ACTIVE member). Answers once Nova accepted " +
      "it; the image becomes `active` later (see GET). Named `<prefix>-manual-<time>` and marked `novascale:kind=manual`: never " +
      "the nightly one, never counted toward the nightly retention, kept by its own bound `keepManual` (default 5). Idempotent: " +
      "send `Idempotency-Key: <unique>` and a retry within 24 h answers the same snapshot (422 if the key comes with another " +
      "body); without a key, a repeat within 5 minutes while the earlier manual snapshot is still in progress answers that one " +
      "(`replayed` says so) unless `force: true`.",
    role: "operate",
    body: TakeSnapshotRequestSchema,
    bodyOptional: true,
    errors: [404, 409, 413, 415, 422, 503],
    responses: { 202: { description: "accepted: the image id and where it came from", schema: TakenSnapshotSchema } },
    async handle(c, { name, body, caller, service, now }) {
      const rawKey = c.req.header("Idempotency-Key");
      const key = rawKey === undefined ? undefined : IdempotencyKeySchema.safeParse(rawKey);
      if (key !== undefined && !key.success) throw validationError("Idempotency-Key header", key.error, ["headers", "Idempotency-Key"]);
      const taken = await service.takeSnapshot(
        name,
        {
          author: caller.name,
          ...(body.serverId === undefined ? {} : { serverId: body.serverId }),
          ...(body.force === undefined ? {} : { force: body.force }),
          ...(key === undefined ? {} : { idempotencyKey: key.data }),
        },
        now,
      );
      const step = taken.step;
      if (step === null || step.kind !== "snapshot" || taken.result?.imageId === undefined) {
        throw new Error("takeSnapshot answered without an image"); // the service throws for every refusal
      }
      return c.json(
        {
          image: { id: taken.result.imageId, name: step.imageName },
          serverId: step.serverId,
          serverName: step.serverName,
          firing: step.firing,
          reason: step.reason,
          replayed: taken.replayed,
        },
        202,
      );
    },
  }),
];
