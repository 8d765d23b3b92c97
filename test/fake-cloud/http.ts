// Response builders for the fake cloud, in each service's own error dialect (Nova, Keystone, Glance).

export type Headers0 = Record<string, string>;

export function json(status: number, body: unknown, headers: Headers0 = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function empty(status: number, headers: Headers0 = {}): Response {
  return new Response(null, { status, headers });
}

/** Nova's fault names by status (nova/api/openstack/wsgi.py), "computeFault" for the rest. */
const NOVA_FAULT_NAMES: Record<number, string> = {
  400: "badRequest",
  401: "unauthorized",
  403: "forbidden",
  404: "itemNotFound",
  405: "badMethod",
  409: "conflictingRequest",
  413: "overLimit",
  415: "badMediaType",
  429: "overLimit",
  501: "notImplemented",
  503: "serviceUnavailable",
};

export function novaFaultName(status: number): string {
  return NOVA_FAULT_NAMES[status] ?? "computeFault";
}

/** `{"badRequest": {"code": 400, "message": "..."}}`, with `; charset=UTF-8` like the real one. */
export function novaError(status: number, message: string, headers: Headers0 = {}): Response {
  return new Response(JSON.stringify({ [novaFaultName(status)]: { code: status, message } }), {
    status,
    headers: { "Content-Type": "application/json; charset=UTF-8", ...headers },
  });
}

const KEYSTONE_TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Request Entity Too Large",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** `{"error": {"code": 401, "message": "...", "title": "Unauthorized"}}` */
export function keystoneError(status: number, message: string, headers: Headers0 = {}): Response {
  return json(status, { error: { code: status, message, title: KEYSTONE_TITLES[status] ?? "Error" } }, headers);
}

/** Glance answers errors as a small HTML page (webob). */
export function glanceError(status: number, message: string, headers: Headers0 = {}): Response {
  const title = `${status} ${KEYSTONE_TITLES[status] ?? "Error"}`;
  const body = `<html>\n <head>\n  <title>${title}</title>\n </head>\n <body>\n  <h1>${title}</h1>\n  ${message}<br /><br />\n\n\n\n </body>\n</html>`;
  return new Response(body, { status, headers: { "Content-Type": "text/html; charset=UTF-8", ...headers } });
}

/** The body of a request as JSON, or undefined when it is absent or not JSON. */
export async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return Symbol.for("invalid-json");
  }
}

export const INVALID_JSON = Symbol.for("invalid-json");

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
