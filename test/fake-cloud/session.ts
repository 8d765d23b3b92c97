// A tiny OpenStack caller for the emulator's own tests: log in, then call Nova/Glance with a token and a microversion.
type Fetcher = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export interface CallResult {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A response body as the tests compare it: JSON when it parses, else the text; null when empty. */
export async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export interface LoginOptions {
  user?: string;
  password?: string;
  project?: string;
}

export class FakeSession {
  readonly base: string;
  readonly token: string;
  readonly #fetch: Fetcher;

  private constructor(base: string, token: string, fetcher: Fetcher) {
    this.base = base;
    this.token = token;
    this.#fetch = fetcher;
  }

  /** Password login (Keystone v3) as demo/demo-password in project demo unless told otherwise. */
  static async login(base: string, fetcher: Fetcher, options: LoginOptions = {}): Promise<FakeSession> {
    const res = await fetcher(`${base}/identity/v3/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: { methods: ["password"], password: { user: { name: options.user ?? "demo", domain: { name: "Default" }, password: options.password ?? "demo-password" } } },
          scope: { project: { name: options.project ?? "demo", domain: { name: "Default" } } },
        },
      }),
    });
    const token = res.headers.get("X-Subject-Token");
    if (res.status !== 201 || token === null) throw new Error(`login failed: ${res.status}`);
    return new FakeSession(base, token, fetcher);
  }

  /** `path` below the origin, e.g. "/compute/v2.1/servers"; `version` like "2.93" or "latest" (compute only). */
  async call(method: string, path: string, body?: unknown, version?: string): Promise<CallResult> {
    const headers: Record<string, string> = { "X-Auth-Token": this.token };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (version !== undefined) headers["OpenStack-API-Version"] = `compute ${version}`;
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await this.#fetch(`${this.base}${path}`, init);
    return { status: res.status, headers: res.headers, body: await readBody(res) };
  }

  /** Nova v2.1 at microversion `version` (default "latest"). */
  nova(method: string, path: string, body?: unknown, version = "latest"): Promise<CallResult> {
    return this.call(method, `/compute/v2.1${path}`, body, version);
  }

  glance(method: string, path: string): Promise<CallResult> {
    return this.call(method, `/image/v2${path}`);
  }
}
