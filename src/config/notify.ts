// zod at the edge for NOVASCALE_NOTIFY: the notification destinations (a secret: it holds URLs with tokens and HMAC keys).
import { z } from "zod";
import { EVENT_TYPES } from "../core/notify/events.ts";

const HttpUrl = z.url({ protocol: /^https?$/ });

/** `web`, or `web-*` (a prefix): which groups a destination hears about; absent: every group. */
const GroupPattern = z.string().regex(/^[a-z0-9][a-z0-9-]*\*?$/, "a group name, or a prefix ending in *");

const Common = {
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "letters, digits, _ . - (at most 63)"),
  url: HttpUrl,
  groups: z.array(GroupPattern).min(1).optional(),
  /** Event types this destination wants; absent: all. */
  events: z.array(z.enum(EVENT_TYPES)).min(1).optional(),
};

export const DestinationSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("webhook"), ...Common, secret: z.string().min(16, "at least 16 characters").max(256) }).strict(),
  z.object({ kind: z.literal("slack"), ...Common }).strict(),
  z.object({ kind: z.literal("ntfy"), ...Common }).strict(),
]);
export type Destination = z.infer<typeof DestinationSchema>;

export const DestinationListSchema = z.array(DestinationSchema).max(20).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((d, i) => {
    if (seen.has(d.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `'${d.name}' is named twice` });
    seen.add(d.name);
  });
});

/** The destinations, or a problem naming the field (never echoing a value: they are secret). */
export function parseDestinations(raw: string | undefined): { ok: true; destinations: Destination[] } | { ok: false; problem: string } {
  if (raw === undefined || raw.trim() === "") return { ok: true, destinations: [] };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, problem: "NOVASCALE_NOTIFY is not JSON" };
  }
  const parsed = DestinationListSchema.safeParse(json);
  if (parsed.success) return { ok: true, destinations: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, problem: `NOVASCALE_NOTIFY.${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}` };
}

/** Whether a destination hears about `group` and `type` (a test event reaches every destination asked). */
export function wants(d: Destination, group: string, type: string): boolean {
  const groupOk = d.groups === undefined || d.groups.some((p) => (p.endsWith("*") ? group.startsWith(p.slice(0, -1)) : group === p));
  const typeOk = type === "test" || d.events === undefined || (d.events as readonly string[]).includes(type);
  return groupOk && typeOk;
}
