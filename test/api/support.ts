// Test helpers for the API: requests through the real worker (exports.default.fetch) with the test tokens.
import { exports } from "cloudflare:workers";

export const TOKENS = {
  admin: "admin-token-for-tests",
  operate: "operate-token-for-tests",
  read: "read-token-for-tests",
} as const;
export type TokenRole = keyof typeof TOKENS;

export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export interface Sent<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

export interface SendOptions {
  as?: TokenRole | null;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
}

/** One request to the worker; `as: null` sends no token. JSON bodies get Content-Type: application/json. */
export async function send<T = unknown>(method: string, path: string, options: SendOptions = {}): Promise<Sent<T>> {
  const headers = new Headers(options.headers);
  const role = options.as === undefined ? "admin" : options.as;
  if (role !== null && !headers.has("Authorization")) headers.set("Authorization", `Bearer ${TOKENS[role]}`);
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  const res = await exports.default.fetch(`http://novascale.test${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, text, body: parsed as T };
}

/** Minimal valid rules for a group on the fake cloud. */
export function rules(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { image: "cirros", flavor: "m1.tiny", max: 5, default: 1, ...overrides };
}

export async function createGroup(name: string, body: Record<string, unknown> = rules()): Promise<Sent<{ etag: string }>> {
  const res = await send<{ etag: string }>("PUT", `/v1/groups/${name}`, { json: body });
  if (res.status !== 201 && res.status !== 200) throw new Error(`creating ${name}: HTTP ${res.status} ${res.text}`);
  return res;
}
