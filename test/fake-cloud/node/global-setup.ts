// vitest globalSetup: starts the fake cloud and a webhook receiver on random loopback ports and hands their URLs to tests and the worker.
import type { TestProject } from "vitest/node";
import { startFakeCloud } from "./serve.ts";
import { startWebhookReceiver } from "./webhook-receiver.ts";

export default async function setup(project: TestProject) {
  const running = await startFakeCloud({
    port: 0,
    host: "127.0.0.1",
    options: {
      // A virtual clock: tests move time with the control API (POST /_fake/clock), so nothing depends on real waits.
      clock: "manual",
      seed: 42,
      // Every test file shares this cloud, and deletes complete only when someone moves the clock: a small quota
      // would make one file's servers cap another's boots. Quota rules are tested on isolated clouds.
      quotas: { instances: 100_000, cores: 1_000_000, ram: 1_000_000_000 },
    },
  });
  project.provide("fakeCloudUrl", running.url);
  // Notification tests: the worker's NOVASCALE_NOTIFY points here (vitest.config.ts).
  const receiver = await startWebhookReceiver();
  project.provide("webhookUrl", receiver.url);
  return async () => {
    await receiver.close();
    await running.close();
  };
}
