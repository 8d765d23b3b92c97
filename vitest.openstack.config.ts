// Real-OpenStack tier (`npm run test:openstack`): client conformance inside workerd, end-to-end through `wrangler dev` in Node.
import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-plugin";

// scripts/test-openstack.mjs sets these to the devcloud's non-admin `demo` user.
const os = (name: string): string => process.env[name] ?? "";

export default defineConfig({
  test: {
    globalSetup: ["./test/devcloud/support/global-setup.ts"],
    // One cloud, one quota: files must not boot servers at the same time.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    projects: [
      {
        plugins: [
          cloudflareTest({
            miniflare: {
              compatibilityDate: "2026-11-01",
              compatibilityFlags: ["nodejs_compat"],
              bindings: {
                OS_AUTH_URL: os("OS_AUTH_URL"),
                OS_USERNAME: os("OS_USERNAME"),
                OS_PASSWORD: os("OS_PASSWORD"),
                OS_PROJECT_NAME: os("OS_PROJECT_NAME"),
                OS_USER_DOMAIN_NAME: os("OS_USER_DOMAIN_NAME"),
                OS_PROJECT_DOMAIN_NAME: os("OS_PROJECT_DOMAIN_NAME"),
                OS_REGION_NAME: os("OS_REGION_NAME"),
                OS_INTERFACE: os("OS_INTERFACE"),
              },
            },
          }),
        ],
        test: {
          name: "openstack-client",
          include: ["test/devcloud/client/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "openstack-e2e",
          environment: "node",
          include: ["test/devcloud/e2e/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
