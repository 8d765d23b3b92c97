// The worker's env pointed at an in-process fake cloud (its fetch is injected through a cloud factory; the host is never dialled).
import { env } from "cloudflare:workers";

export function fakeCloudEnv(base = "http://fake-cloud.test"): typeof env {
  return {
    ...env,
    OS_AUTH_URL: `${base}/identity/v3`,
    OS_USERNAME: "demo",
    OS_PASSWORD: "demo-password",
    OS_PROJECT_NAME: "demo",
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_DOMAIN_NAME: "Default",
  } as typeof env;
}
