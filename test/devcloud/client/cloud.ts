// Shared by the client conformance tests (inside workerd): the client under test, opened as `demo`, and the tests' own raw view.
import { env } from "cloudflare:workers";
import { OpenStackSettingsSchema, type OpenStackSettings } from "../../../src/config/env.ts";
import { createComputeCloud, type ComputeCloudOptions, type OpenStackComputeCloud } from "../../../src/openstack/index.ts";
import { Devcloud, demoUser } from "../support/devcloud.ts";

/** The OS_* bindings vitest.openstack.config.ts hands to workerd (the devcloud's demo user). */
export function settings(overrides: Partial<Record<keyof OpenStackSettings, string>> = {}): OpenStackSettings {
  const vars = env as unknown as Record<string, string | undefined>;
  const pick = (k: string) => (vars[k] === "" ? undefined : vars[k]);
  return OpenStackSettingsSchema.parse({
    OS_AUTH_URL: pick("OS_AUTH_URL"),
    OS_USERNAME: pick("OS_USERNAME"),
    OS_PASSWORD: pick("OS_PASSWORD"),
    OS_PROJECT_NAME: pick("OS_PROJECT_NAME"),
    OS_USER_DOMAIN_NAME: pick("OS_USER_DOMAIN_NAME"),
    OS_PROJECT_DOMAIN_NAME: pick("OS_PROJECT_DOMAIN_NAME"),
    OS_REGION_NAME: pick("OS_REGION_NAME"),
    OS_INTERFACE: pick("OS_INTERFACE"),
    ...overrides,
  });
}

/** The client under test, as the Worker opens it. */
export function openCloud(options: ComputeCloudOptions = {}, overrides: Partial<Record<keyof OpenStackSettings, string>> = {}): OpenStackComputeCloud {
  return createComputeCloud(settings(overrides), options);
}

/** The tests' own plain-fetch view of the same project (checks and cleanup). */
export function rawCloud(): Promise<Devcloud> {
  return Devcloud.login(demoUser(env as unknown as Record<string, string | undefined>));
}

/** Finds the thrown error (for asserting on its fields). */
export async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error("expected the call to fail, but it succeeded");
}
