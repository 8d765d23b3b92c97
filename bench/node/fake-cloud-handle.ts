// Starts a fresh fake cloud on loopback for one benchmark run and hands back both its URL and its in-process state.
import type { FakeCloud } from "../../test/fake-cloud/cloud.ts";
import type { FakeCloudOptions } from "../../test/fake-cloud/model.ts";
import { startFakeCloud } from "../../test/fake-cloud/node/serve.ts";

export interface FakeCloudHandle {
  /** http://127.0.0.1:<port>; services below /identity, /compute, /image. */
  url: string;
  /** The emulator itself: seeding, clock and request counts (the same counts GET /_fake/stats serves). */
  cloud: FakeCloud;
  close(): Promise<void>;
}

export async function launchFakeCloud(options: FakeCloudOptions): Promise<FakeCloudHandle> {
  const running = await startFakeCloud({ host: "127.0.0.1", port: 0, options });
  return { url: running.url, cloud: running.cloud, close: running.close };
}
