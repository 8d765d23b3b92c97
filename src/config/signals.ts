// zod at the edge of signals in: a receiver's creation body, and a signal's body (Alertmanager, Aodh or plain JSON).
import { z } from "zod";
import type { SignalInput } from "../core/schedule/signals.ts";

/** Receivers per group. */
export const MAX_RECEIVERS_PER_GROUP = 20;
/** The longest a raise may last after one signal (a week): a stale signal must end by itself. */
export const MAX_SIGNAL_MINUTES = 7 * 24 * 60;
/** A signal's body is read up to this size (Alertmanager with many alerts stays well below; 413 above). */
export const SIGNAL_BODY_LIMIT_BYTES = 64 * 1024;
/** A source key kept per signal (an Alertmanager groupKey, an Aodh alarm id, a caller's key), cut to this length. */
export const SIGNAL_KEY_MAX = 200;

const ReceiverNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lower-case letters, digits and '-', starting with a letter or digit, at most 63 characters")
  .meta({ description: "unique within the group; absent: one is made up" });

const AuthSchema = z
  .enum(["signature", "bearer"])
  .default("signature")
  .meta({
    description:
      "signature (default): every signal carries `Novascale-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, \"t.body\")>` inside a ±5 min window, each signature once. " +
      "bearer: also accepts `Authorization: Bearer <secret>` from senders that cannot sign (Alertmanager's http_config.authorization); no replay window then",
  });

/** POST /v1/groups/{name}/receivers. */
export const ReceiverCreateSchema = z.discriminatedUnion("action", [
  z
    .object({
      action: z.literal("raise"),
      name: ReceiverNameSchema.optional(),
      desired: z.number().int().min(1).max(10_000).meta({ description: "the least desired count while the signal is live (at most the group's max)" }),
      durationMinutes: z.number().int().min(1).max(MAX_SIGNAL_MINUTES).meta({ description: "how long a signal stays live after it arrives (a repeat extends it), 1..10080" }),
      auth: AuthSchema,
    })
    .strict(),
  z.object({ action: z.literal("clear"), name: ReceiverNameSchema.optional(), auth: AuthSchema }).strict(),
]);
export type ReceiverCreate = z.output<typeof ReceiverCreateSchema>;

/** A receiver's fields as stored and as shown, never its secret: the store adds the secret, the API the URL. */
export const ReceiverFieldsSchema = z.object({
  id: z.string(),
  group: z.string(),
  name: z.string(),
  action: z.enum(["raise", "clear"]),
  desired: z.number().int().optional(),
  durationMinutes: z.number().int().optional(),
  auth: z.enum(["signature", "bearer"]),
  createdAt: z.string(),
  createdBy: z.string(),
  lastSignalAt: z.string().optional(),
  signals: z.number().int().nonnegative(),
});

/** A receiver id as the signal URL carries it: `<group>.<24 hex>`. */
export const RECEIVER_ID_PATTERN = /^([a-z0-9][a-z0-9-]{0,62})\.([0-9a-f]{24})$/;

// Alertmanager's webhook payload (version 4): only what the rule needs; the rest is kept loose.
const AlertmanagerSchema = z
  .object({
    version: z.string().optional(),
    groupKey: z.string().min(1),
    status: z.enum(["firing", "resolved"]),
    alerts: z.array(z.unknown()),
  })
  .loose();

// Aodh's alarm notification (the webhook alarm action): its state decides.
const AodhSchema = z
  .object({
    alarm_id: z.string().min(1),
    current: z.string(),
  })
  .loose();

// A plain call (a CI job, curl): `{}` raises; `{"status": "resolved"}` ends it; `key` keeps callers apart.
const PlainSchema = z
  .object({
    status: z.enum(["firing", "resolved"]).optional(),
    key: z.string().min(1).max(SIGNAL_KEY_MAX).optional(),
  })
  .strict();

/** The three bodies a signal may carry, as one schema for the OpenAPI document (parseSignalBody picks by key, as here). */
export const SignalBodySchema = z
  .union([
    PlainSchema.meta({ description: "a plain call (a CI job, curl): `{}` raises (or clears, for a clear receiver); `status: resolved` ends it; `key` keeps callers apart" }),
    AlertmanagerSchema.meta({ description: "Alertmanager's webhook (version 4): `firing` raises, `resolved` ends the signal of that groupKey" }),
    AodhSchema.meta({ description: "Aodh's alarm notification: `alarm` raises, `ok` ends the signal of that alarm, other states change nothing" }),
  ])
  .meta({ id: "SignalBody", description: "JSON, at most 64 KiB; an empty body is `{}`" });

export type ParsedSignal = { ok: true; input: SignalInput } | { ok: true; ignored: string } | { ok: false; error: z.ZodError | string };

const cut = (key: string) => key.slice(0, SIGNAL_KEY_MAX);

/** A signal body (raw text, already authenticated) as the rule's input; an empty body is a plain `{}`. */
export function parseSignalBody(text: string): ParsedSignal {
  let raw: unknown = {};
  if (text.trim() !== "") {
    try {
      raw = JSON.parse(text);
    } catch {
      return { ok: false, error: "the body is not JSON" };
    }
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { ok: false, error: "the body must be a JSON object" };
  if ("alerts" in raw) {
    const am = AlertmanagerSchema.safeParse(raw);
    if (!am.success) return { ok: false, error: am.error };
    return { ok: true, input: { status: am.data.status, key: cut(am.data.groupKey), format: "alertmanager" } };
  }
  if ("alarm_id" in raw) {
    const aodh = AodhSchema.safeParse(raw);
    if (!aodh.success) return { ok: false, error: aodh.error };
    if (aodh.data.current === "alarm") return { ok: true, input: { status: "firing", key: cut(aodh.data.alarm_id), format: "aodh" } };
    if (aodh.data.current === "ok") return { ok: true, input: { status: "resolved", key: cut(aodh.data.alarm_id), format: "aodh" } };
    return { ok: true, ignored: `an Aodh alarm in state '${aodh.data.current}' changes nothing` };
  }
  const plain = PlainSchema.safeParse(raw);
  if (!plain.success) return { ok: false, error: plain.error };
  return { ok: true, input: { status: plain.data.status ?? "firing", key: plain.data.key ?? "", format: "plain" } };
}
