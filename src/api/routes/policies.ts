// /v1/snapshot-policies: list, read (rules + last status), create/replace (ETag, If-Match), delete, pause/resume, retention preview, activity.
import { SnapshotPolicyRulesSchema } from "../../config/snapshot-policy.ts";
import { defineRoute, writeConditions, type AnyRouteSpec } from "../route.ts";
import { DeletePolicyResultSchema, PolicyActivitySchema, PolicyListSchema, PolicyViewSchema, RetentionPreviewSchema, RetentionQuerySchema, StoredPolicySchema } from "../policy-schemas.ts";
import { ActivityQuerySchema } from "../schemas.ts";
import { pauseRoutes } from "./pause.ts";

const TAG = "snapshot-policies";
const BASE = "/v1/snapshot-policies";

export const policyRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: "get",
    path: BASE,
    tag: TAG,
    summary: "List the snapshot policies",
    description: "Every policy with its ETag and revision, from the rules registry (strongly consistent).",
    role: "read",
    responses: { 200: { description: "every policy, by name", schema: PolicyListSchema } },
    async handle(c, { policies }) {
      return c.json({ policies: await policies.list() });
    },
  }),
  defineRoute({
    method: "get",
    path: `${BASE}/{name}`,
    tag: TAG,
    summary: "A snapshot policy's rules and last status",
    description: "The rules, revision and ETag, the operator pause, and the last run's status (null before the first run). Makes no cloud calls.",
    role: "read",
    errors: [404],
    responses: { 200: { description: "rules + status", schema: PolicyViewSchema, headers: { ETag: "the rules' version, for If-Match" } } },
    async handle(c, { name, policies }) {
      const view = await policies.get(name);
      c.header("ETag", view.etag);
      return c.json(view);
    },
  }),
  defineRoute({
    method: "put",
    path: `${BASE}/{name}`,
    tag: TAG,
    summary: "Create or replace a snapshot policy",
    description:
      "Validated with the policy schema. `If-Match: <etag>` replaces only the version you read (412 otherwise), `If-None-Match: *` creates only; " +
      "compare-and-set in the rules registry: of many conditional writes at once exactly one wins. The policy's Durable Object knows the new " +
      "revision before the answer; cron runs never act on an older one.",
    role: "admin",
    body: SnapshotPolicyRulesSchema,
    errors: [412, 413, 415],
    responses: {
      200: { description: "replaced (or unchanged)", schema: StoredPolicySchema, headers: { ETag: "the new version" } },
      201: { description: "created", schema: StoredPolicySchema, headers: { ETag: "the new version", Location: "the policy's URL" } },
    },
    async handle(c, { name, body, caller, policies }) {
      const result = await policies.put(name, body, { author: caller.name, ...writeConditions(c) });
      c.header("ETag", result.etag);
      if (result.created) c.header("Location", `${BASE}/${name}`);
      return c.json(result.policy, result.created ? 201 : 200);
    },
  }),
  defineRoute({
    method: "delete",
    path: `${BASE}/{name}`,
    tag: TAG,
    summary: "Delete a snapshot policy",
    description:
      "Decided in the policy's Durable Object after any running run; no run acts afterwards. `If-Match` is honoured (412). The policy's " +
      "snapshots stay in Glance (delete them there if you no longer want them). The activity log stays and ends with the deletion.",
    role: "admin",
    errors: [404, 412],
    responses: { 200: { description: "removed", schema: DeletePolicyResultSchema } },
    async handle(c, { name, caller, policies }) {
      const { ifMatch } = writeConditions(c);
      return c.json(await policies.remove(name, { author: caller.name, ...(ifMatch === undefined ? {} : { ifMatch }) }));
    },
  }),
  ...pauseRoutes({
    base: `${BASE}/{name}`,
    tag: TAG,
    stops: "no snapshots taken, none deleted",
    pause: ({ name, caller, policies }, reason) => policies.pause(name, caller.name, reason),
    resume: ({ name, caller, policies }) => policies.resume(name, caller.name),
  }),
  defineRoute({
    method: "get",
    path: `${BASE}/{name}/retention`,
    tag: TAG,
    summary: "Retention preview: each snapshot, keep or delete, and why",
    description:
      "Lists the project's servers and the policy's snapshots now and decides retention as of `at` (default now) with the function the cron " +
      "run uses, under the same guard (images a group names or a server was booted from are never deleted). Writes nothing, deletes nothing.",
    role: "read",
    query: RetentionQuerySchema,
    errors: [404, 503],
    responses: { 200: { description: "every snapshot of the policy, newest first", schema: RetentionPreviewSchema } },
    async handle(c, { name, query, policies, now }) {
      return c.json(await policies.retention(name, query.at === undefined ? now : new Date(query.at)));
    },
  }),
  defineRoute({
    method: "get",
    path: `${BASE}/{name}/activity`,
    tag: TAG,
    summary: "The policy's activity log, newest first",
    role: "read",
    query: ActivityQuerySchema,
    errors: [404],
    responses: { 200: { description: "snapshots taken and deleted, failures, rules changes, pauses: who and why", schema: PolicyActivitySchema } },
    async handle(c, { name, query, policies }) {
      return c.json({ entries: await policies.activity(name, query.limit, query.only) });
    },
  }),
];
