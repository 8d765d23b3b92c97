// /v1/groups and /v1/groups/{name}: list, read (rules + status), create/replace (ETag, If-Match), merge-patch, delete.
import { z } from "zod";
import { GroupRulesSchema } from "../../config/group.ts";
import { etagMatches } from "../../store/rules.ts";
import { NotFoundError, PreconditionFailedError, type GroupStatus } from "../../reconcile/shared/service.ts";
import type { ChangePoint } from "../next-changes.ts";
import { RULES_BODY_LIMIT_BYTES } from "../body.ts";
import { ApiError, validationError } from "../errors.ts";
import { mergePatch } from "../merge-patch.ts";
import { nextChanges } from "../next-changes.ts";
import { defineRoute, writeConditions, type AnyRouteSpec } from "../route.ts";
import { DeleteGroupQuerySchema, DeleteGroupResultSchema, PutGroupQuerySchema, GroupListSchema, GroupStatusSchema, GroupWriteSchema } from "../schemas.ts";

const TAG = "groups";

export const MERGE_PATCH_MEDIA_TYPE = "application/merge-patch+json";

/** A PATCH body: a JSON Merge Patch of the rules (an object; null deletes a key, arrays replace). */
const GroupRulesPatchSchema = z
  .record(z.string(), z.unknown())
  .meta({ description: "RFC 7396 JSON Merge Patch of the group's rules: keys set replace, null deletes a key, objects merge, arrays replace" });

/** The GET /v1/groups/{name} body: the stored group flattened with its status. */
export function statusBody(status: GroupStatus, changes: ChangePoint[]) {
  const { group, ...rest } = status;
  return { ...group, ...rest, nextChanges: changes };
}

export const groupRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/v1/groups",
    tag: TAG,
    summary: "List the groups",
    description: "Every group with its ETag and revision, from the rules registry (strongly consistent; no KV listing).",
    role: "read",
    responses: { 200: { description: "every group, by name", schema: GroupListSchema } },
    async handle(c, { service }) {
      const groups = await service.listGroups();
      return c.json({ groups });
    },
  }),
  defineRoute({
    method: "get",
    path: "/v1/groups/{name}",
    tag: TAG,
    summary: "A group's rules and status",
    description:
      "Desired count now and the rule that set it, actual servers by state (as of the last tick), the override, " +
      "pause, the last tick's steps and errors, and the next scheduled changes. Makes no cloud calls.",
    role: "read",
    errors: [404],
    responses: { 200: { description: "rules + status", schema: GroupStatusSchema, headers: { ETag: "the rules' version, for If-Match" } } },
    async handle(c, { name, service, now }) {
      const status = await service.status(name, now);
      c.header("ETag", status.group.etag);
      return c.json(statusBody(status, nextChanges(status, now)));
    },
  }),
  defineRoute({
    method: "put",
    path: "/v1/groups/{name}",
    tag: TAG,
    summary: "Create or replace a group's rules",
    description:
      "Validated with the rules schema; answers with the stored group, its ETag and its revision. Send `If-Match: <etag>` " +
      "to replace only the version you read (412 otherwise), `If-None-Match: *` to create only. Both are compare-and-set in " +
      "the rules registry: of many conditional writes at once exactly one wins. The group's Durable Object knows the new " +
      "revision before the answer; cron ticks never act on an older one. A change that would strand servers novascale did " +
      "not boot (mode power -> elastic, scaleIn.action shelve/stop -> delete) is 409 naming them (count, ids) unless sent with " +
      "`?adopt=true`, which hands them to the group (they may then be deleted like its own). Before writing, the image, " +
      "flavor and key pair the rules name are looked up in the cloud (a bounded number of calls, at most 8 s): what does not " +
      "resolve comes back in `warnings` (`not-found` with the closest names, `ambiguous`, `not-usable`, or `cloud-unreachable` " +
      "when the cloud could not answer) and the write stands; `?strict=true` answers 422 with them instead (503 when the cloud " +
      "could not answer) and writes nothing. Networks and security groups are not checked (Nova's proxies for them are gone " +
      "from microversion 2.36; Nova checks them at boot). A snapshot policy that selects the group by name but runs in " +
      "another cloud-region comes back as a `policy-elsewhere` warning (strict or not, the write stands).",
    role: "admin",
    body: GroupRulesSchema,
    query: PutGroupQuerySchema,
    bodyLimitBytes: RULES_BODY_LIMIT_BYTES,
    errors: [409, 412, 413, 415, 422, 503],
    responses: {
      200: { description: "replaced (or unchanged)", schema: GroupWriteSchema, headers: { ETag: "the new version" } },
      201: { description: "created", schema: GroupWriteSchema, headers: { ETag: "the new version", Location: "the group's URL" } },
    },
    async handle(c, { name, body, query, caller, service }) {
      const result = await service.putGroup(name, body, { author: caller.name, adopt: query.adopt ?? false, strict: query.strict ?? false, ...writeConditions(c) });
      c.header("ETag", result.etag);
      if (result.created) c.header("Location", `/v1/groups/${name}`);
      return c.json({ ...result.group, warnings: result.warnings }, result.created ? 201 : 200);
    },
  }),
  defineRoute({
    method: "patch",
    path: "/v1/groups/{name}",
    tag: TAG,
    summary: "Change some of a group's rules (JSON Merge Patch)",
    description:
      "RFC 7396: send `Content-Type: application/merge-patch+json` and the keys to change; `null` deletes a key, objects " +
      "merge, arrays (e.g. `schedules`) replace. `If-Match: <etag>` is required (428 without, 412 when stale). The merged " +
      "rules are validated with the same schema as PUT (422 naming the field, nothing written) and stored as PUT stores them, " +
      "with the same cloud check (`warnings`; `?strict=true`: 422 or 503, nothing written).",
    role: "admin",
    body: GroupRulesPatchSchema,
    query: PutGroupQuerySchema,
    mediaType: MERGE_PATCH_MEDIA_TYPE,
    bodyLimitBytes: RULES_BODY_LIMIT_BYTES,
    errors: [404, 409, 412, 413, 415, 422, 428, 503],
    responses: { 200: { description: "patched (or unchanged)", schema: GroupWriteSchema, headers: { ETag: "the new version" } } },
    async handle(c, { name, body, query, caller, service }) {
      const ifMatch = c.req.header("If-Match");
      if (ifMatch === undefined) throw new ApiError(428, "precondition_required", "send If-Match with the ETag from GET /v1/groups/{name}; a patch applies only to the version it was made for");
      const current = await service.getGroup(name);
      if (current === null) throw new NotFoundError(`no group named '${name}'`);
      if (!etagMatches(ifMatch, current.etag)) throw new PreconditionFailedError("If-Match does not name the group's current version", { etag: current.etag });
      const parsed = GroupRulesSchema.safeParse(mergePatch(current.rules, body));
      if (!parsed.success) {
        const invalid = validationError("merged rules", parsed.error);
        throw new ApiError(422, invalid.code, invalid.message, invalid.details);
      }
      // The same compare-and-set write as PUT: a change between the read above and this write answers 412.
      const result = await service.putGroup(name, parsed.data, { author: caller.name, ifMatch: current.etag, adopt: query.adopt ?? false, strict: query.strict ?? false });
      c.header("ETag", result.etag);
      return c.json({ ...result.group, warnings: result.warnings }, 200);
    },
  }),
  defineRoute({
    method: "delete",
    path: "/v1/groups/{name}",
    tag: TAG,
    summary: "Delete a group's rules",
    description:
      "Decided in the group's Durable Object after any running reconcile, from a fresh listing: 409 while the group still " +
      "has servers. With `?force=true` the rules (and override, pause, records) are removed anyway and the servers left " +
      "behind are listed; novascale never deletes them. No reconcile of the group acts afterwards. The activity log stays " +
      "(it ends with the deletion) and continues if the group is created again.",
    role: "admin",
    query: DeleteGroupQuerySchema,
    errors: [404, 409, 503],
    responses: { 200: { description: "removed", schema: DeleteGroupResultSchema } },
    async handle(c, { name, query, caller, service }) {
      const result = await service.deleteGroup(name, { force: query.force ?? false, author: caller.name });
      return c.json(result);
    },
  }),
];
