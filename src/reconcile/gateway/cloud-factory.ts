// Opens the ComputeCloud for a request or tick from the Worker's OS_* settings (parsed with zod here, at the edge).
import { OpenStackSettingsSchema, type Env, type OpenStackSettings } from "../../config/env.ts";
import type { ComputeCloud } from "../../openstack/cloud.ts";
import { createComputeCloud, createRateLimitMemory, createTokenCache } from "../../openstack/index.ts";
import type { TickBudget } from "./budget.ts";

/** `budget`, when given, is charged for every request and its deadline bounds every attempt. */
export type CloudFactory = (settings: OpenStackSettings, env: Env, budget?: TickBudget) => ComputeCloud;

/** No retry starts later than this after the cloud is opened: a tick must end before the next minute's. */
export const CLOUD_DEADLINE_MS = 45_000;

/** Tokens live in isolate memory only (never KV, DO storage or logs); a warm isolate skips Keystone next tick. */
const tokenCache = createTokenCache();
/** Retry-After waits per endpoint, in isolate memory too: the next tick does not knock on a rate limiter that asked us to wait. */
const rateLimits = createRateLimitMemory();

/** With a budget (a tick), its deadline (NOVASCALE_TICK_SECONDS) is the only one; an API request keeps CLOUD_DEADLINE_MS. */
const defaultFactory: CloudFactory = (settings, _env, budget) =>
  createComputeCloud(settings, { tokenCache, rateLimits, ...(budget ? { budget } : { deadline: Date.now() + CLOUD_DEADLINE_MS }) });

/** A ComputeCloud whose every call fails with one message (e.g. the OpenStack settings are incomplete). */
export function failingCloud(message: string, category: "config" | "internal" = "config"): ComputeCloud {
  const fail = async (): Promise<never> => {
    throw Object.assign(new Error(message), { category });
  };
  return {
    listServers: fail,
    resolveImage: fail,
    resolveFlavor: fail,
    boot: fail,
    deleteServer: fail,
    serverAction: fail,
    mergeServerMetadata: fail,
    deleteServerMetadataItem: fail,
    absoluteLimits: fail,
    createImage: fail,
    listImages: fail,
    getImage: fail,
    deleteImage: fail,
  };
}

/** Never throws: bad settings give a cloud that fails every call with the reason (no secret values in it). */
export function openCloud(env: Env, factory: CloudFactory = defaultFactory, budget?: TickBudget): ComputeCloud {
  const parsed = OpenStackSettingsSchema.safeParse(env);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    return failingCloud(`OpenStack settings are incomplete (${fields})`);
  }
  try {
    return factory(parsed.data, env, budget);
  } catch (error) {
    return failingCloud(error instanceof Error ? error.message : String(error), "internal");
  }
}
