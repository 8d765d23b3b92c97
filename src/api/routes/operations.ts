// Steering a group: override (set/clear), pause/resume, dry-run plan, reconcile now, timeline, activity.
import { ApiError } from "../errors.ts";
import { timelineOf } from "../next-changes.ts";
import { defineRoute, type AnyRouteSpec } from "../route.ts";
import { pauseRoutes } from "./pause.ts";
import {
  ActivityListSchema,
  ActivityQuerySchema,
  ClearOverrideResultSchema,
  EmptyRequestSchema,
  MAX_OVERRIDE_MINUTES,
  OverrideRequestSchema,
  PlanPreviewSchema,
  PlanQuerySchema,
  RetryBootsResultSchema,
  RefreshRequestSchema,
  StartRefreshResultSchema,
  CancelRefreshResultSchema,
  TickRecordSchema,
  TimelineQuerySchema,
  TimelineSchema,
} from "../schemas.ts";
import { OverrideSchema } from "../../config/group.ts";

const TAG = "operations";

export const operationRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: "put",
    path: "/v1/groups/{name}/override",
    tag: TAG,
    summary: "Hold the group at a count for a while",
    description:
      "`{ desired, until | minutes, reason }`. The author is the token's name. In force from the next tick on; ends by itself. " +
      "Replaces any override already set.",
    role: "operate",
    body: OverrideRequestSchema,
    errors: [404, 413, 415, 422],
    responses: { 200: { description: "the override now in force", schema: OverrideSchema } },
    async handle(c, { name, body, caller, service, now }) {
      const until = body.until ?? new Date(now.getTime() + (body.minutes ?? 0) * 60_000).toISOString();
      const untilMs = Date.parse(until);
      if (untilMs <= now.getTime()) {
        throw new ApiError(422, "invalid_request", "'until' must be in the future", [{ path: "body.until", message: "must be after now" }]);
      }
      if (untilMs - now.getTime() > MAX_OVERRIDE_MINUTES * 60_000) {
        const days = MAX_OVERRIDE_MINUTES / 1440;
        throw new ApiError(422, "invalid_request", `an override lasts at most ${days} days; change the rules for longer`, [
          { path: "body.until", message: `at most ${days} days ahead` },
        ]);
      }
      const override = await service.setOverride(name, { desired: body.desired, until, reason: body.reason, author: caller.name }, now);
      return c.json(override);
    },
  }),
  defineRoute({
    method: "delete",
    path: "/v1/groups/{name}/override",
    tag: TAG,
    summary: "End the override now",
    role: "operate",
    errors: [404],
    responses: { 200: { description: "`cleared: false` when there was none", schema: ClearOverrideResultSchema } },
    async handle(c, { name, caller, service }) {
      return c.json(await service.clearOverride(name, caller.name));
    },
  }),
  ...pauseRoutes({
    base: "/v1/groups/{name}",
    tag: TAG,
    stops: "no boots, no deletes",
    pause: ({ name, caller, service }, reason) => service.pause(name, caller.name, reason),
    resume: ({ name, caller, service }) => service.resume(name, caller.name),
  }),
  defineRoute({
    method: "post",
    path: "/v1/groups/{name}/retry-boots",
    tag: TAG,
    summary: "Boot again: lift the boot block and end the backoff",
    description:
      "After Nova rejected a boot (400: booting stops until the rules change) or after repeated boot failures (boots wait 1, 2, 4 ... 60 min), " +
      "the next tick boots again. 409 when booting is not stopped.",
    role: "operate",
    body: EmptyRequestSchema,
    bodyOptional: true,
    errors: [404, 409, 413, 415],
    responses: { 200: { description: "what was cleared", schema: RetryBootsResultSchema } },
    async handle(c, { name, caller, service }) {
      return c.json(await service.retryBoots(name, caller.name));
    },
  }),
  defineRoute({
    method: "post",
    path: "/v1/groups/{name}/refresh",
    tag: TAG,
    summary: "Start a rolling refresh now",
    description:
      "The next tick pins the image id the rules' image resolves to and replaces every member on another one, new servers first " +
      "(the rules' `refresh`: maxSurge, minInService, windows, health check). `ignoreWindow: true` replaces outside the windows too. " +
      "409 when the rules have no `refresh`.",
    role: "admin",
    body: RefreshRequestSchema,
    bodyOptional: true,
    errors: [404, 409, 413, 415],
    responses: { 202: { description: "the request the next tick takes up", schema: StartRefreshResultSchema } },
    async handle(c, { name, caller, service, body }) {
      return c.json(await service.startRefresh(name, caller.name, body.ignoreWindow ?? false), 202);
    },
  }),
  defineRoute({
    method: "delete",
    path: "/v1/groups/{name}/refresh",
    tag: TAG,
    summary: "Cancel the rolling refresh",
    description: "Drops a waiting start and halts an open refresh: the next tick deletes new servers not yet ready; members already replaced stay.",
    role: "admin",
    errors: [404],
    responses: { 200: { description: "`cancelled: false` when none was waiting or open", schema: CancelRefreshResultSchema } },
    async handle(c, { name, caller, service }) {
      return c.json(await service.cancelRefresh(name, caller.name));
    },
  }),
  defineRoute({
    method: "get",
    path: "/v1/groups/{name}/plan",
    tag: TAG,
    summary: "Dry run: the steps a tick would take",
    description: "Lists the group's servers now and plans as of `at` (default now). Executes nothing, records nothing.",
    role: "read",
    query: PlanQuerySchema,
    errors: [404, 503],
    responses: { 200: { description: "the steps, with reasons", schema: PlanPreviewSchema } },
    async handle(c, { name, query, service, now }) {
      const at = query.at === undefined ? now : new Date(query.at);
      return c.json(await service.planPreview(name, at));
    },
  }),
  defineRoute({
    method: "post",
    path: "/v1/groups/{name}/reconcile",
    tag: TAG,
    summary: "Run this group's tick now",
    description: "Serialised with cron ticks (one reconcile of a group at a time). Answers with the tick's record: steps and results.",
    role: "operate",
    body: EmptyRequestSchema,
    bodyOptional: true,
    errors: [404, 413, 415, 503],
    responses: { 200: { description: "the tick record", schema: TickRecordSchema } },
    async handle(c, { name, caller, service, now }) {
      return c.json(await service.reconcileNow(name, caller.name, now));
    },
  }),
  defineRoute({
    method: "get",
    path: "/v1/groups/{name}/timeline",
    tag: TAG,
    summary: "The desired count over the next hours, as change points",
    description:
      "Each point says from when the count holds, the value and the rule that sets it (override, exception, window, schedule entry, default). " +
      "Built from change points, so it costs what it returns; `truncated: true` means the work bound stopped it and the points are complete only up to `through`.",
    role: "read",
    query: TimelineQuerySchema,
    errors: [404],
    responses: { 200: { description: "change points with reasons", schema: TimelineSchema } },
    async handle(c, { name, query, service, now }) {
      const status = await service.status(name, now);
      const { points, truncated, through } = timelineOf(status, now, query.hours);
      return c.json({ from: now.toISOString(), hours: query.hours, points, truncated, through });
    },
  }),
  defineRoute({
    method: "get",
    path: "/v1/groups/{name}/activity",
    tag: TAG,
    summary: "The group's activity log, newest first",
    role: "read",
    query: ActivityQuerySchema,
    errors: [404],
    responses: { 200: { description: "boots, deletes, errors, overrides, pauses: who and why", schema: ActivityListSchema } },
    async handle(c, { name, query, service }) {
      return c.json({ entries: await service.activity(name, query.limit, query.only) });
    },
  }),
];
