// /v1/groups and /v1/groups/{name}: list, read (rules + status), create/replace (ETag, If-Match), delete.
import { GroupRulesSchema } from "../../config/group.ts";
import type { GroupStatus } from "../../reconcile/shared/service.ts";
import type { ChangePoint } from "../next-changes.ts";
import { nextChanges } from "../next-changes.ts";
import { defineRoute, writeConditions, type AnyRouteSpec } from "../route.ts";
import { DeleteGroupQuerySchema, DeleteGroupResultSchema, GroupListSchema, GroupStatusSchema, StoredGroupSchema } from "../schemas.ts";

const TAG = "groups";

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
      "revision before the answer; cron ticks never act on an older one.",
    role: "admin",
    body: GroupRulesSchema,
    errors: [412, 413, 415],
    responses: {
      200: { description: "replaced (or unchanged)", schema: StoredGroupSchema, headers: { ETag: "the new version" } },
      201: { description: "created", schema: StoredGroupSchema, headers: { ETag: "the new version", Location: "the group's URL" } },
    },
    async handle(c, { name, body, caller, service }) {
      const result = await service.putGroup(name, body, { author: caller.name, ...writeConditions(c) });
      c.header("ETag", result.etag);
      if (result.created) c.header("Location", `/v1/groups/${name}`);
      return c.json(result.group, result.created ? 201 : 200);
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
