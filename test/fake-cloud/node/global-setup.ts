// vitest globalSetup: starts the fake cloud on a random loopback port and hands its URL to tests and the worker.
import type { TestProject } from "vitest/node";
import { startFakeCloud } from "./serve.ts";

export default async function setup(project: TestProject) {
  // A virtual clock: tests move time with the control API (POST /_fake/clock), so nothing depends on real waits.
  const running = await startFakeCloud({ port: 0, host: "127.0.0.1", options: { clock: "manual", seed: 42 } });
  project.provide("fakeCloudUrl", running.url);
  return () => running.close();
}
