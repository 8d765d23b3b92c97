// Notifications: the destinations (without URLs or secrets), the delivery log, and a test button.
import { z } from "zod";
import type { Context } from "hono";
import { notifierStub } from "../../reconcile/notify/notifier.ts";
import type { ApiEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import { defineRoute, type AnyRouteSpec } from "../route.ts";

const TAG = "notifications";

const DeliveryQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).meta({ description: "newest first, 1..500 (default 50)" }),
});

const TestRequestSchema = z
  .object({ destination: z.string().min(1).max(63).optional().meta({ description: "one destination's name; absent: every destination" }) })
  .strict();

const DeliverySchema = z.object({
  at: z.string(),
  eventId: z.string(),
  destination: z.string(),
  type: z.string(),
  group: z.string(),
  attempt: z.number(),
  outcome: z.enum(["delivered", "retrying", "failed"]),
  status: z.number().optional(),
  error: z.string().optional(),
  nextAt: z.string().optional(),
});

function notifier(c: Context<ApiEnv>) {
  const stub = notifierStub(c.env);
  if (stub === undefined) throw new ApiError(503, "notifications_unavailable", "this deployment has no NOTIFIER Durable Object binding");
  return stub;
}

export const notificationRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/v1/notifications",
    tag: TAG,
    summary: "The notification destinations (names, kinds, filters; never URLs or secrets) and deliveries pending",
    role: "read",
    errors: [503],
    responses: { 200: { description: "`problem` when NOVASCALE_NOTIFY cannot be read (nothing is sent then)" } },
    async handle(c) {
      return c.json(await notifier(c).status());
    },
  }),
  defineRoute({
    method: "get",
    path: "/v1/notifications/deliveries",
    tag: TAG,
    summary: "The delivery log: one row per attempt (delivered, retrying with its next time, or failed), newest first",
    role: "read",
    query: DeliveryQuerySchema,
    errors: [503],
    responses: { 200: { description: "attempts, newest first", schema: z.object({ deliveries: z.array(DeliverySchema) }) } },
    async handle(c, { query }) {
      return c.json({ deliveries: await notifier(c).deliveries(query.limit) });
    },
  }),
  defineRoute({
    method: "post",
    path: "/v1/notifications/test",
    tag: TAG,
    summary: "Send a test notification now",
    description:
      "`{ destination? }`. Sends an event of type `test` to one destination or all of them and answers with the first attempt of each " +
      "(a failed attempt is retried on the usual schedule and shows in the delivery log).",
    role: "operate",
    body: TestRequestSchema,
    bodyOptional: true,
    errors: [404, 409, 503],
    responses: { 200: { description: "the event sent and each destination's first attempt" } },
    async handle(c, { body, caller }) {
      const answer = await notifier(c).sendTest(caller.name, body.destination);
      if (!answer.ok) {
        if (body.destination !== undefined && answer.reason.startsWith("no destination '")) throw new ApiError(404, "not_found", answer.reason, [{ path: "body.destination", message: "no such destination" }]);
        throw new ApiError(409, "notifications_not_configured", answer.reason);
      }
      return c.json(answer);
    },
  }),
];
