// Runs the fake cloud as an HTTP server on Node (vitest globalSetup, `npm start`, or `node test/fake-cloud/node/serve.ts`).
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { FakeCloud } from "../cloud.ts";
import { FakeCloudHost } from "../host.ts";
import type { FaultSpecInput } from "../faults.ts";
import type { FakeCloudOptions } from "../model.ts";

export interface StartFakeCloudOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Emulator options; the clock defaults to "real" here (standalone use). */
  options?: FakeCloudOptions;
  /** Called once per API request (not for /_fake), e.g. to print a log line. */
  onRequest?: (method: string, path: string, status: number) => void;
}

export interface RunningFakeCloud {
  /** e.g. http://127.0.0.1:8774 — Keystone v3 is at `${url}/identity/v3`. */
  url: string;
  port: number;
  /** The default cloud (the one at `url`); state, clock and faults are reachable directly. */
  cloud: FakeCloud;
  /** Also serves isolated clouds at `${url}/clouds/{id}` (POST /_fake/clouds). */
  host: FakeCloudHost;
  close: () => Promise<void>;
}

async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? "GET";
  const init: RequestInit = { method, headers };
  if (method !== "GET" && method !== "HEAD") {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    init.body = new Uint8Array(Buffer.concat(chunks));
  }
  return new Request(new URL(req.url ?? "/", origin), init);
}

async function send(res: ServerResponse, response: Response, method: string): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  const body = method === "HEAD" || response.body === null ? undefined : Buffer.from(await response.arrayBuffer());
  if (body !== undefined) headers["content-length"] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(body);
}

export async function startFakeCloud(options: StartFakeCloudOptions = {}): Promise<RunningFakeCloud> {
  const hostName = options.host ?? "127.0.0.1";
  const host = new FakeCloudHost({ clock: "real", ...options.options });
  let origin = "";
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const request = await toRequest(req, origin);
        const response = await host.handle(request);
        const path = new URL(request.url).pathname;
        if (!path.includes("/_fake")) options.onRequest?.(request.method, path, response.status);
        await send(res, response, request.method);
      } catch (error) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, hostName, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the fake cloud did not get a TCP port");
  origin = `http://${hostName.includes(":") ? `[${hostName}]` : hostName}:${address.port}`;
  return {
    url: origin,
    port: address.port,
    cloud: host.cloud,
    host,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "8774" },
      host: { type: "string", default: "127.0.0.1" },
      seed: { type: "string" },
      book: { type: "boolean", default: false },
      "build-ms": { type: "string" },
      "delete-ms": { type: "string" },
      "snapshot-ms": { type: "string" },
      fault: { type: "string", multiple: true },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log("usage: node test/fake-cloud/node/serve.ts [--port 8774] [--host 127.0.0.1] [--seed N] [--book] [--build-ms MS] [--delete-ms MS] [--snapshot-ms MS] [--fault JSON]... [--quiet]");
    console.log(`  e.g. --fault '{"kind":"randomErrors","rate":0.1,"statuses":[500,503]}' (see test/fake-cloud/README.md)`);
    return;
  }
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const cloud: FakeCloudOptions = { clock: "real", mode: values.book ? "book" : "modern" };
  if (values.seed !== undefined) cloud.seed = Number(values.seed);
  if (values["build-ms"] !== undefined) cloud.buildMs = num(values["build-ms"]);
  if (values["delete-ms"] !== undefined) cloud.deleteMs = num(values["delete-ms"]);
  if (values["snapshot-ms"] !== undefined) cloud.snapshotMs = num(values["snapshot-ms"]);
  if (values.fault !== undefined) cloud.faults = values.fault.map((text) => JSON.parse(text) as FaultSpecInput);
  const running = await startFakeCloud({
    port: Number(values.port),
    host: values.host,
    options: cloud,
    ...(values.quiet ? {} : { onRequest: (method: string, path: string, status: number) => console.log(`${new Date().toISOString()} ${status} ${method} ${path}`) }),
  });
  console.log(`fake cloud listening on ${running.url}`);
  console.log(`  OS_AUTH_URL=${running.url}/identity/v3  OS_USERNAME=demo  OS_PASSWORD=demo-password  OS_PROJECT_NAME=demo`);
  console.log(`  servers: curl ${running.url}/_fake/servers    control: ${running.url}/_fake`);
  const stop = () => {
    void running.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
