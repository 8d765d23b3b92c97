// Signals in: a group's receivers (admin creates and revokes, readers list) and the unauthenticated-by-token signal URL.
import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { ReceiverCreateSchema, ReceiverFieldsSchema, SIGNAL_BODY_LIMIT_BYTES } from "../../config/signals.ts";
import { SIGNATURE_HEADER } from "../../core/notify/signature.ts";
import { createSignalService, type ReceiverView } from "../../reconcile/services/signal-service.ts";
import { readLimited, utf8Text } from "../body.ts";
import type { ApiEnv } from "../context.ts";
import { ApiError, errorResponse } from "../errors.ts";
import { LiveSignalSchema } from "../schemas.ts";
import { defineRoute, type AnyRouteSpec } from "../route.ts";

const TAG = "signals";

const ReceiverSchema = ReceiverFieldsSchema.extend({ url: z.string().meta({ description: "where to POST signals: /v1/signals/{id}" }) })
  .meta({ id: "Receiver", description: "never carries the secret" });

/** The signal URL of a receiver, on the host the caller reached. */
function urlOf(c: Context<ApiEnv>, id: string): string {
  return `${new URL(c.req.url).origin}/v1/signals/${id}`;
}

function withUrl(c: Context<ApiEnv>, r: ReceiverView) {
  return { ...r, url: urlOf(c, r.id) };
}

export const receiverRoutes: AnyRouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/v1/groups/{name}/receivers",
    tag: TAG,
    summary: "Create a receiver: a signal URL and a signing secret (shown once) that raise or clear the group",
    description:
      "`{action: \"raise\", desired, durationMinutes, name?, auth?}` or `{action: \"clear\", name?, auth?}`. A signal to the URL raises the group to at least " +
      "`desired` for `durationMinutes` (desired = clamp(max(schedule, live signals), min, max); an override wins). The secret is in this answer only.",
    role: "admin",
    body: ReceiverCreateSchema,
    errors: [404, 409, 413, 415, 422],
    responses: { 201: { description: "the receiver, its URL, and its secret (never shown again)", schema: z.object({ receiver: ReceiverSchema, url: z.string(), secret: z.string() }) } },
    async handle(c, { name, body, caller, now }) {
      const { receiver, secret } = await createSignalService(c.env).createReceiver(name, body, caller.name, now);
      return c.json({ receiver: withUrl(c, receiver), url: urlOf(c, receiver.id), secret }, 201);
    },
  }),
  defineRoute({
    method: "get",
    path: "/v1/groups/{name}/receivers",
    tag: TAG,
    summary: "The group's receivers (never their secrets)",
    role: "read",
    errors: [404],
    responses: { 200: { description: "receivers, oldest first", schema: z.object({ receivers: z.array(ReceiverSchema) }) } },
    async handle(c, { name }) {
      const receivers = await createSignalService(c.env).listReceivers(name);
      return c.json({ receivers: receivers.map((r) => withUrl(c, r)) });
    },
  }),
  defineRoute({
    method: "delete",
    path: "/v1/groups/{name}/receivers/{id}",
    tag: TAG,
    summary: "Revoke a receiver: its URL answers 404 from now on and its live signals end",
    role: "admin",
    errors: [404],
    responses: { 200: { description: "the receiver revoked", schema: z.object({ revoked: z.literal(true), receiver: ReceiverSchema }) } },
    async handle(c, { name, params, caller, now }) {
      const receiver = await createSignalService(c.env).revokeReceiver(name, params["id"] ?? "", caller.name, now);
      return c.json({ revoked: true as const, receiver: withUrl(c, receiver) });
    },
  }),
];

export const SignalAcceptedSchema = z.object({
  accepted: z.literal(true),
  outcome: z.enum(["raised", "extended", "cleared", "nothing"]),
  message: z.string(),
  signal: LiveSignalSchema.pick({ desired: true, since: true, until: true, count: true }).nullable(),
});

/**
 * POST /v1/signals/{id}: no API token; the receiver authenticates it (Novascale-Signature over "t.body" inside ±5 min,
 * each signature once; or the bearer secret for receivers made with auth "bearer"). Mounted before the /v1 token check.
 */
export function mountSignalEndpoint(app: Hono<ApiEnv>, now: () => Date): void {
  app.post("/v1/signals/:id", async function signal(c) {
    let bytes: Uint8Array;
    try {
      bytes = await readLimited(c.req.raw, SIGNAL_BODY_LIMIT_BYTES);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new ApiError(400, "bad_request", "the body could not be read");
    }
    const body = utf8Text(bytes, "malformed_body", "the body is not valid UTF-8");
    const signature = c.req.header(SIGNATURE_HEADER);
    const authorization = c.req.header("Authorization");
    const answer = await createSignalService(c.env).signal(c.req.param("id"), {
      body,
      nowMs: now().getTime(),
      ...(signature === undefined ? {} : { signature }),
      ...(authorization === undefined ? {} : { authorization }),
    });
    if (!answer.ok) {
      const res = errorResponse(c, answer.status as ContentfulStatusCode, answer.code, answer.message, answer.problems);
      if (answer.retryAfterSeconds !== undefined) res.headers.set("Retry-After", String(answer.retryAfterSeconds));
      return res;
    }
    return c.json({ accepted: true as const, outcome: answer.outcome, message: answer.message, signal: answer.signal }, 202);
  });
  app.all("/v1/signals/:id", function signalMethodNotAllowed() {
    throw new ApiError(405, "method_not_allowed", "allowed methods: POST", { allow: ["POST"] }, { Allow: "POST" });
  });
}
