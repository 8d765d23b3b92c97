// Readiness for GET /readyz: Keystone gives a token for the configured credentials, and the rules registry answers.
import { OpenStackSettingsSchema, type Env } from "../../config/env.ts";
import { credentialsFromSettings, isOpenStackError, Session } from "../../openstack/index.ts";
import { registryStub } from "../registry/registry.ts";

/** One check's outcome; `reason` is a sentence without secret values, URLs or tokens (the route needs no token). */
export type CheckResult = { ok: true } | { ok: false; reason: string };

export interface Readiness {
  ready: boolean;
  checks: { keystone: CheckResult; registry: CheckResult };
}

/** A readiness check should not wait as long as a tick: a slow Keystone is not ready. */
export const READINESS_TIMEOUT_MS = 10_000;

/** What went wrong, by category, kind and status only: an OpenStackError's message may name the auth URL. */
function reasonOf(error: unknown): string {
  if (isOpenStackError(error)) {
    const status = error.status === 0 ? "no HTTP response" : `HTTP ${error.status}`;
    return `${error.category}: ${error.kind} (${status})`;
  }
  return "internal: the check failed unexpectedly";
}

/** Authenticates afresh (no token cache: a cached token would hide a password changed since). */
async function checkKeystone(env: Env): Promise<CheckResult> {
  const parsed = OpenStackSettingsSchema.safeParse(env);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join(".")))].join(", ");
    return { ok: false, reason: `config: OpenStack settings are incomplete or invalid (${fields})` };
  }
  try {
    const settings = parsed.data;
    const session = new Session({
      authUrl: settings.OS_AUTH_URL,
      credentials: credentialsFromSettings(settings),
      deadline: Date.now() + READINESS_TIMEOUT_MS,
      requestTimeoutMs: READINESS_TIMEOUT_MS,
    });
    await session.auth();
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: reasonOf(error) };
  }
}

async function checkRegistry(env: Env): Promise<CheckResult> {
  try {
    await registryStub(env).list("group");
    return { ok: true };
  } catch {
    return { ok: false, reason: "the rules registry (Durable Object) did not answer" };
  }
}

export async function checkReadiness(env: Env): Promise<Readiness> {
  const [keystone, registry] = await Promise.all([checkKeystone(env), checkRegistry(env)]);
  return { ready: keystone.ok && registry.ok, checks: { keystone, registry } };
}
