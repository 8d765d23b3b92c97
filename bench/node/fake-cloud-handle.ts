// Starts a fresh fake cloud on loopback for one benchmark run and hands back both its URL and its in-process state.
import { createServer } from "node:http";
import { FakeCloud } from "../../test/fake-cloud/cloud.ts";
import type { FakeCloudOptions } from "../../test/fake-cloud/model.ts";

export interface FakeCloudHandle {
  /** http://127.0.0.1:<port>; services below /identity, /compute, /image. */
  url: string;
  /** The emulator itself: seeding, clock and request counts (the same counts GET /_fake/stats serves). */
  cloud: FakeCloud;
  close(): Promise<void>;
}

export async function launchFakeCloud(options: FakeCloudOptions): Promise<FakeCloudHandle> {
  const cloud = new FakeCloud(options);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const headers = new Headers();
      for (const [key, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
      }
      const body = chunks.length > 0 ? new Uint8Array(Buffer.concat(chunks)) : undefined;
      const init: RequestInit = { method: req.method ?? "GET", headers };
      if (body !== undefined && req.method !== "GET" && req.method !== "HEAD") init.body = body;
      cloud
        .handle(new Request(`http://${req.headers.host ?? "127.0.0.1"}${req.url ?? "/"}`, init))
        .then(async (response) => {
          const out: Record<string, string> = {};
          response.headers.forEach((value, key) => (out[key] = value));
          const bytes = Buffer.from(await response.arrayBuffer());
          res.writeHead(response.status, out);
          res.end(bytes);
        })
        .catch((error: unknown) => {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: String(error) }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake cloud: no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    cloud,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
