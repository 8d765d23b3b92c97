// A webhook receiver on loopback for the notification tests: records every POST (path, headers, raw body) and
// answers with a status the test can script per path (POST /_receiver/script {path, statuses}); GET /_receiver lists.
import { createServer } from "node:http";

export interface ReceivedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
  status: number;
  at: string;
}

export interface RunningReceiver {
  url: string;
  close: () => Promise<void>;
}

export async function startWebhookReceiver(): Promise<RunningReceiver> {
  const received: ReceivedRequest[] = [];
  /** Statuses to answer next, per path (first used first); absent or used up: 200. */
  const scripts = new Map<string, number[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const body = Buffer.concat(chunks).toString("utf8");
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (url.pathname === "/_receiver" && req.method === "GET") {
        const prefix = url.searchParams.get("path") ?? "";
        return json(200, received.filter((r) => r.path.startsWith(prefix)));
      }
      if (url.pathname === "/_receiver/script" && req.method === "POST") {
        const { path, statuses } = JSON.parse(body) as { path: string; statuses: number[] };
        scripts.set(path, [...statuses]);
        return json(200, { ok: true });
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      const status = scripts.get(url.pathname)?.shift() ?? 200;
      received.push({ path: url.pathname, headers, body, status, at: new Date().toISOString() });
      json(status, { ok: status < 300 });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
