// The Worker's environment: bindings plus OS_* settings, parsed once at the edge with zod.
import { z } from "zod";

/** Bindings and vars as the runtime hands them to us (see wrangler.toml). */
export interface Env {
  RULES: KVNamespace;
  GROUPS: DurableObjectNamespace;
  /** The rules registry (one instance): every rules write goes through it. */
  REGISTRY: DurableObjectNamespace;
  /** One Durable Object per snapshot policy: serialises its runs, keeps its pause, last run and activity. */
  POLICIES: DurableObjectNamespace;
  /** The notifier (one instance, idFromName("notify")): outbox, retries by alarm, delivery log. Absent: no notifications. */
  NOTIFIER?: DurableObjectNamespace;
  OS_AUTH_URL?: string;
  OS_USERNAME?: string;
  OS_PASSWORD?: string;
  OS_PROJECT_NAME?: string;
  OS_PROJECT_ID?: string;
  OS_USER_DOMAIN_NAME?: string;
  OS_USER_DOMAIN_ID?: string;
  OS_PROJECT_DOMAIN_NAME?: string;
  OS_PROJECT_DOMAIN_ID?: string;
  /** keystoneauth's fallback for both the user's and the project's domain (when neither is given itself). */
  OS_DEFAULT_DOMAIN_ID?: string;
  OS_DEFAULT_DOMAIN_NAME?: string;
  OS_REGION_NAME?: string;
  OS_INTERFACE?: string;
  OS_APPLICATION_CREDENTIAL_ID?: string;
  OS_APPLICATION_CREDENTIAL_SECRET?: string;
  /** Optional explicit endpoint overrides, e.g. `{"compute":"https://nova.example/v2.1"}`. */
  OS_ENDPOINT_OVERRIDES?: string;
  /** Named clouds: the text of an openstacksdk clouds.yaml (YAML or JSON), a Worker secret; OS_* form the cloud `default` (config/clouds.ts). */
  NOVASCALE_CLOUDS?: string;
  /** API tokens: JSON `[{"name":"alice","token":"...","role":"admin"}]` (a Worker secret). */
  NOVASCALE_TOKENS?: string;
  /** A single local admin token (npm start honours NOVASCALE_TOKEN from the environment). */
  NOVASCALE_TOKEN?: string;
  /** Subrequests one tick (or API request) may send to the cloud; default 50 (Workers' free plan). */
  NOVASCALE_SUBREQUEST_BUDGET?: string;
  /** Seconds after a tick's start when nothing new starts; default 45 (cron ticks come a minute apart). */
  NOVASCALE_TICK_SECONDS?: string;
  /** Notification destinations, JSON `[{"name","kind":"webhook"|"slack"|"ntfy","url","secret"?,"groups"?,"events"?}]` (a Worker secret). */
  NOVASCALE_NOTIFY?: string;
  /** A server's page in the cloud's own dashboard, `{id}` filled in (e.g. Horizon's `https://horizon.example/project/instances/{id}/`). */
  NOVASCALE_SERVER_LINK?: string;
}

/** The tick's budget settings; a bad value is refused with its field named (the tick then keeps the safe default). */
/** A whole number given as text (Worker vars are strings), within [min, max]. */
function wholeNumber(unit: string, min: { value: number; why: string }, max: { value: number; why: string }) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, { message: `must be a whole number of ${unit}` })
    .transform(Number)
    .pipe(z.number().int().min(min.value, { message: `must be at least ${min.value}${min.why}` }).max(max.value, { message: `must be at most ${max.value}${max.why}` }))
    .optional();
}

/** The tick's budget settings; a bad value is refused with its field named (the tick then keeps the safe default). */
export const BudgetSettingsSchema = z.object({
  NOVASCALE_SUBREQUEST_BUDGET: wholeNumber(
    "subrequests (e.g. 50 on the free plan, 1000 on a paid plan)",
    { value: 5, why: " (a tick needs a token, a listing and a boot)" },
    { value: 10_000, why: " (Workers' paid plan limit)" },
  ),
  NOVASCALE_TICK_SECONDS: wholeNumber("seconds", { value: 5, why: "" }, { value: 840, why: " (a cron invocation may run 15 minutes)" }),
});
export type BudgetSettings = z.infer<typeof BudgetSettingsSchema>;

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/** OpenStack connection settings, named as the OpenStack ecosystem names them. */
export const OpenStackSettingsSchema = z
  .object({
    OS_AUTH_URL: z.url({ message: "OS_AUTH_URL must be a URL" }),
    OS_USERNAME: optionalText,
    OS_PASSWORD: optionalText,
    OS_PROJECT_NAME: optionalText,
    OS_PROJECT_ID: optionalText,
    OS_USER_DOMAIN_NAME: optionalText,
    OS_USER_DOMAIN_ID: optionalText,
    OS_PROJECT_DOMAIN_NAME: optionalText,
    OS_PROJECT_DOMAIN_ID: optionalText,
    OS_DEFAULT_DOMAIN_ID: optionalText,
    OS_DEFAULT_DOMAIN_NAME: optionalText,
    OS_REGION_NAME: optionalText,
    OS_INTERFACE: z
      .enum(["public", "internal", "admin", "publicURL", "internalURL", "adminURL"])
      .optional()
      .or(z.literal("").transform(() => undefined)),
    OS_APPLICATION_CREDENTIAL_ID: optionalText,
    OS_APPLICATION_CREDENTIAL_SECRET: optionalText,
    OS_ENDPOINT_OVERRIDES: optionalText,
  })
  .superRefine((s, ctx) => {
    const appCred = s.OS_APPLICATION_CREDENTIAL_ID !== undefined;
    if (appCred && s.OS_APPLICATION_CREDENTIAL_SECRET === undefined) {
      ctx.addIssue({ code: "custom", path: ["OS_APPLICATION_CREDENTIAL_SECRET"], message: "required with OS_APPLICATION_CREDENTIAL_ID" });
    }
    if (!appCred && (s.OS_USERNAME === undefined || s.OS_PASSWORD === undefined)) {
      ctx.addIssue({ code: "custom", path: ["OS_USERNAME"], message: "set OS_USERNAME and OS_PASSWORD, or OS_APPLICATION_CREDENTIAL_ID and _SECRET" });
    }
  });
export type OpenStackSettings = z.infer<typeof OpenStackSettingsSchema>;
