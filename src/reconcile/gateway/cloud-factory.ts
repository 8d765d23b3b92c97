// Opens the ComputeCloud of one cloud-region for a request or tick: the named clouds (config/clouds.ts: NOVASCALE_CLOUDS + OS_*), parsed at the edge.
import { cloudProblem, cloudsFromEnv, placementOf, type CloudConfig, type CloudsConfig, type Placement } from "../../config/clouds.ts";
import type { Env, OpenStackSettings } from "../../config/env.ts";
import type { ComputeCloud } from "../../openstack/cloud.ts";
import type { MicroversionRequest } from "../../openstack/compute/versions.ts";
import { createComputeCloud, createRateLimitMemory, createTokenCache } from "../../openstack/index.ts";
import type { TickBudget } from "./budget.ts";

/** Which cloud-region a factory call is for (tests may ignore it: one cloud). */
export interface CloudTarget extends Placement {
  config: CloudConfig;
}

/**
 * `settings` are the cloud's OS_* settings with OS_REGION_NAME set to the region (the catalog picks
 * endpoints by it). `budget`, when given, is charged for every request and its deadline bounds every attempt.
 */
export type CloudFactory = (settings: OpenStackSettings, env: Env, budget?: TickBudget, target?: CloudTarget) => ComputeCloud;

/** No retry starts later than this after the cloud is opened: a tick must end before the next minute's. */
export const CLOUD_DEADLINE_MS = 45_000;

/** Tokens live in isolate memory only (never KV, DO storage or logs); a warm isolate skips Keystone next tick. Keyed per cloud (tokenScope). */
const tokenCache = createTokenCache();
/** Retry-After waits per endpoint, in isolate memory too: the next tick does not knock on a rate limiter that asked us to wait. */
const rateLimits = createRateLimitMemory();

/** With a budget (a tick), its deadline (NOVASCALE_TICK_SECONDS) is the only one; an API request keeps CLOUD_DEADLINE_MS. */
const defaultFactory: CloudFactory = (settings, _env, budget, target) => {
  const config = target?.config;
  return createComputeCloud(settings, {
    tokenCache,
    rateLimits,
    tokenScope: target?.cloud ?? "default",
    ...(config?.microversion === undefined ? {} : { microversion: config.microversion as MicroversionRequest }),
    ...(config?.token === undefined ? {} : { credentials: { method: "token" as const, ...config.token } }),
    ...(budget ? { budget } : { deadline: Date.now() + CLOUD_DEADLINE_MS }),
  });
};

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

/** The last parse, by the texts it came from: a warm isolate does not re-read the secret every tick. */
let parsed: { key: string; config: CloudsConfig } | undefined;

/** The deployment's named clouds, parsed once per isolate per setting (never throws: problems are in the result). */
export function cloudsOf(env: Env): CloudsConfig {
  const os = Object.entries(env)
    .filter(([k, v]) => k.startsWith("OS_") && typeof v === "string")
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const key = JSON.stringify([env.NOVASCALE_CLOUDS ?? null, os]);
  if (parsed?.key !== key) parsed = { key, config: cloudsFromEnv(env) };
  return parsed.config;
}

/**
 * The ComputeCloud of one cloud-region (default: the cloud `default` and its first region). Never throws:
 * an unknown or broken cloud gives a cloud that fails every call with the reason (naming the cloud and the field, no secret values).
 */
export function openCloud(env: Env, factory: CloudFactory = defaultFactory, budget?: TickBudget, placement?: Placement): ComputeCloud {
  const config = cloudsOf(env);
  const where = placement ?? placementOf(config, {});
  const problem = cloudProblem(config, where.cloud);
  const cloud = config.clouds.get(where.cloud);
  if (problem !== undefined || cloud?.settings === undefined) return failingCloud(problem ?? `cloud '${where.cloud}' cannot be opened`);
  try {
    return factory({ ...cloud.settings, OS_REGION_NAME: where.region }, env, budget, { ...where, config: cloud });
  } catch (error) {
    return failingCloud(error instanceof Error ? error.message : String(error), "internal");
  }
}
