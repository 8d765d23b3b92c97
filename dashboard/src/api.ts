// The dashboard's only way to the backend: the public /v1 API with the signed-in token as a Bearer header (no cookies).

const TOKEN_KEY = "novascale.token";

export type Role = "read" | "operate" | "admin";
export interface Session {
  token: string;
  name: string;
  role: Role;
}

/** An answer other than 2xx, with the API's own message kept as it is. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** The token lives in this tab's sessionStorage only: it ends with the tab and is never sent as a cookie. */
export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}
export function storeToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // storage refused (private mode): the session lasts as long as the page
  }
}

function errorFromBody(status: number, body: unknown, fallback: string): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (error !== undefined && typeof error.message === "string") {
    return new ApiError(status, typeof error.code === "string" ? error.code : "error", error.message, error.details);
  }
  return new ApiError(status, "error", fallback);
}

/** One API call that also answers the response's ETag (for If-Match); extra request headers allowed. */
export async function callTagged<T>(token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ value: T; etag: string | null }> {
  let etag: string | null = null;
  const value = await call<T>(token, method, path, body, headers, (res) => {
    etag = res.headers.get("ETag");
  });
  return { value, etag };
}

/** One API call. Throws ApiError with the API's message, or with a plain one when the API could not be reached. */
export async function call<T>(token: string, method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}, seen?: (res: Response) => void): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json", ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...extraHeaders },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (e) {
    throw new ApiError(0, "unreachable", `cannot reach the API: ${e instanceof Error ? e.message : String(e)}`);
  }
  seen?.(res);
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) throw errorFromBody(res.status, parsed, `HTTP ${res.status} ${res.statusText}`.trim());
  return parsed as T;
}

/** Checks a token by asking the API who it belongs to. */
export async function signIn(token: string): Promise<Session> {
  const who = await call<{ name: string; role: Role }>(token, "GET", "/v1/whoami");
  return { token, name: who.name, role: who.role };
}

export function canOperate(session: Session): boolean {
  return session.role === "operate" || session.role === "admin";
}

/** GETs every path, `parallel` at a time; each answer or its error, in the paths' order. */
export async function getEach<T>(token: string, paths: readonly string[], parallel: number): Promise<Array<{ value?: T; error?: unknown }>> {
  const results: Array<{ value?: T; error?: unknown }> = paths.map(() => ({}));
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const i = next++;
      try {
        results[i] = { value: await call<T>(token, "GET", paths[i] as string) };
      } catch (error) {
        results[i] = { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, paths.length) }, worker));
  return results;
}

/** A group name as a path segment. */
export function groupPath(name: string, rest = ""): string {
  return `/v1/groups/${encodeURIComponent(name)}${rest}`;
}

/** A snapshot policy's name as a path segment. */
export function policyPath(name: string, rest = ""): string {
  return `/v1/snapshot-policies/${encodeURIComponent(name)}${rest}`;
}

/** The details of a validation error as "path: message" lines (the API names the field and the problem). */
export function detailLines(details: unknown): string[] {
  if (!Array.isArray(details)) return [];
  return details.flatMap((d) => {
    const item = d as { path?: unknown; message?: unknown };
    return typeof item.message === "string" ? [`${typeof item.path === "string" ? `${item.path}: ` : ""}${item.message}`] : [];
  });
}
