// Browser tests (npm run test:browser): plain Node (not workerd); scripts/test-browser.mjs starts the stack and passes its URL and tokens.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    // One browser, one stack, tests in order (they act on the same demo group).
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 150_000,
    hookTimeout: 60_000,
  },
});
