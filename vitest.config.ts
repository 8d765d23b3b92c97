// Offline test suite: every test runs inside workerd; the fake cloud listens on loopback (globalSetup).
import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-plugin";

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          // The worker under test talks to the fake cloud started by globalSetup.
          OS_AUTH_URL: `${inject("fakeCloudUrl")}/identity/v3`,
          OS_USERNAME: "demo",
          OS_PASSWORD: "demo-password",
          OS_PROJECT_NAME: "demo",
          OS_USER_DOMAIN_NAME: "Default",
          OS_PROJECT_DOMAIN_NAME: "Default",
          // Notifications of groups named notify-* go to the loopback receiver (test/reconcile/notify, test/worker/notify).
          NOVASCALE_NOTIFY: JSON.stringify([
            { name: "hook", kind: "webhook", url: `${inject("webhookUrl")}/hook`, secret: "test-webhook-secret-0123456789", groups: ["notify-*"] },
            { name: "chat", kind: "slack", url: `${inject("webhookUrl")}/slack`, groups: ["notify-*"], events: ["boot-blocked", "group-error"] },
            // Only test events reach it (no group matches): test/api/notifications.test.ts scripts its failures.
            { name: "flaky", kind: "webhook", url: `${inject("webhookUrl")}/flaky`, secret: "flaky-webhook-secret-0123456789", groups: ["no-group-*"] },
          ]),
          // The combination property's runs and seed (test/worker/combinations.property.test.ts): more runs on demand.
          NOVASCALE_PROPERTY_RUNS: process.env.NOVASCALE_PROPERTY_RUNS ?? "",
          NOVASCALE_PROPERTY_SEED: process.env.NOVASCALE_PROPERTY_SEED ?? "",
          NOVASCALE_PROPERTY_PATH: process.env.NOVASCALE_PROPERTY_PATH ?? "",
          NOVASCALE_PROPERTY_SECONDS: process.env.NOVASCALE_PROPERTY_SECONDS ?? "",
          // The members view links each server to the cloud's own dashboard (test/api/views.test.ts).
          NOVASCALE_SERVER_LINK: "https://horizon.example/project/instances/{id}/",
          NOVASCALE_TOKENS: JSON.stringify([
            { name: "test-admin", token: "admin-token-for-tests", role: "admin" },
            { name: "test-operator", token: "operate-token-for-tests", role: "operate" },
            { name: "test-reader", token: "read-token-for-tests", role: "read" },
          ]),
        },
      },
    })),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/devcloud/**", "test/browser/**", "node_modules/**"],
    globalSetup: ["./test/fake-cloud/node/global-setup.ts"],
    testTimeout: 20_000,
  },
});
