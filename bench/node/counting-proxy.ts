// A loopback HTTP proxy in front of a real cloud's APIs that counts the requests each service receives.
//
// Requests to http://127.0.0.1:<port>/<service>/<path> go to <upstream of service>/<path>. Every
// upstream origin in a response body or Location header is rewritten to the proxy's own prefix, so
// the Keystone catalog, Nova's pagination links and `Location`s all lead back through the proxy
// and no call escapes the count.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export type ServiceCounts = Record<string, number>;

export interface CountingProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  /** The proxy URL for a service, e.g. prefix("identity") + "/v3". */
  prefix(service: string): string;
  counts(): ServiceCounts;
  /** Requests by "METHOD service/path-shape", for the report's detail. */
  calls(): Record<string, number>;
  reset(): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host", "upgrade", "te", "trailer"]);

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Ids and numbers out of a path, so calls group by shape: /v2.1/servers/{id}. */
function pathShape(path: string): string {
  return path
    .split("?")[0]!
    .split("/")
    .map((part) => (/^[0-9a-f-]{8,}$/i.test(part) || /^\d+$/.test(part) ? "{id}" : part))
    .join("/");
}

export async function startCountingProxy(upstreams: Record<string, string>): Promise<CountingProxy> {
  let counts: ServiceCounts = {};
  let calls: Record<string, number> = {};
  let proxyUrl = "";
  const rewrite = (text: string): string => {
    let out = text;
    for (const [service, origin] of Object.entries(upstreams)) out = out.split(origin).join(`${proxyUrl}/${service}`);
    return out;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const [, service, ...rest] = (req.url ?? "/").split("/");
    const upstream = service === undefined ? undefined : upstreams[service];
    if (upstream === undefined || service === undefined) {
      res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: `no upstream for '${req.url ?? ""}'` }));
      return;
    }
    const path = `/${rest.join("/")}`;
    counts[service] = (counts[service] ?? 0) + 1;
    const shape = `${req.method ?? "GET"} ${service}${pathShape(path)}`;
    calls[shape] = (calls[shape] ?? 0) + 1;

    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value === undefined || HOP_BY_HOP.has(key)) continue;
      headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await readBody(req);
    const init: RequestInit = { method: req.method ?? "GET", headers, redirect: "manual" };
    if (body !== undefined && body.length > 0) init.body = new Uint8Array(body);
    const answer = await fetch(`${upstream}${path}`, init);
    const text = rewrite(await answer.text());
    const outHeaders: Record<string, string> = {};
    answer.headers.forEach((value, key) => {
      if (!HOP_BY_HOP.has(key)) outHeaders[key] = key === "location" ? rewrite(value) : value;
    });
    res.writeHead(answer.status, outHeaders);
    res.end(text);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: `proxy: ${error instanceof Error ? error.message : String(error)}` }));
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("counting proxy: no port");
  proxyUrl = `http://127.0.0.1:${address.port}`;

  return {
    url: proxyUrl,
    prefix: (service) => `${proxyUrl}/${service}`,
    counts: () => ({ ...counts }),
    calls: () => ({ ...calls }),
    reset: () => {
      counts = {};
      calls = {};
    },
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
