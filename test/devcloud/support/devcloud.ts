// The tests' own view of the devcloud: plain-fetch Keystone/Nova/Glance calls for checking results and cleaning up (never the client under test).

/** Every server, image and application credential the tier creates has a name starting with this; the sweep deletes only those. */
export const TEST_PREFIX = "nstest-";

/** The Neutron stub's two networks (fixed ids; subnets 127.100.0.0/16 and 127.200.0.0/16, loopback range only). */
export const DEVCLOUD_NETWORKS = {
  private: "d0c10ad0-0000-4000-8000-000000000001",
  public: "d0c10ad0-0000-4000-8000-000000000002",
} as const;

export interface DevcloudUser {
  authUrl: string;
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
}

/** The demo user from the OS_* variables scripts/test-openstack.mjs sets (works with process.env or Worker bindings). */
export function demoUser(vars: Record<string, string | undefined>): DevcloudUser {
  const need = (name: string): string => {
    const value = vars[name];
    if (value === undefined || value === "") throw new Error(`${name} is not set: run the tier with npm run test:openstack`);
    return value;
  };
  return {
    authUrl: need("OS_AUTH_URL").replace(/\/+$/, ""),
    username: need("OS_USERNAME"),
    password: need("OS_PASSWORD"),
    projectName: need("OS_PROJECT_NAME"),
    userDomainName: vars.OS_USER_DOMAIN_NAME || "Default",
    projectDomainName: vars.OS_PROJECT_DOMAIN_NAME || "Default",
  };
}

/** The devcloud's second project: user demo-b in project demo-b (role member), made by up.sh. */
export function demoBUser(vars: Record<string, string | undefined>): DevcloudUser {
  return { ...demoUser(vars), username: "demo-b", password: vars.DEVCLOUD_DEMO_B_PASSWORD || "devcloud-demo-b", projectName: "demo-b" };
}

/** The Worker's vars for acting as `user` on the devcloud, with one admin API token named `tokenName`. */
export function workerVars(user: DevcloudUser, tokenName: string, token: string): Record<string, string> {
  return {
    OS_AUTH_URL: user.authUrl,
    OS_USERNAME: user.username,
    OS_PASSWORD: user.password,
    OS_PROJECT_NAME: user.projectName,
    OS_USER_DOMAIN_NAME: user.userDomainName,
    OS_PROJECT_DOMAIN_NAME: user.projectDomainName,
    OS_REGION_NAME: process.env.OS_REGION_NAME ?? "RegionOne",
    OS_INTERFACE: "public",
    NOVASCALE_TOKENS: JSON.stringify([{ name: tokenName, token, role: "admin" }]),
  };
}

/** A unique, sweepable name for something a test creates. */
export function testName(what: string): string {
  return `${TEST_PREFIX}${what}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
}

export interface NovaServer {
  id: string;
  name: string;
  status: string;
  metadata: Record<string, string>;
  created: string;
  flavor: { original_name?: string; id?: string };
  addresses: Record<string, Array<{ addr: string; version: number }>>;
  "OS-EXT-STS:task_state"?: string | null;
  [key: string]: unknown;
}

export interface GlanceImage {
  id: string;
  name: string;
  status: string;
  [key: string]: unknown;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something other than undefined; throws with `what` and the last value after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A logged-in demo session with raw REST access to the devcloud. */
export class Devcloud {
  readonly token: string;
  readonly projectId: string;
  readonly userId: string;
  readonly computeUrl: string;
  readonly imageUrl: string;
  readonly authUrl: string;

  private constructor(authUrl: string, token: string, projectId: string, userId: string, computeUrl: string, imageUrl: string) {
    this.authUrl = authUrl;
    this.token = token;
    this.projectId = projectId;
    this.userId = userId;
    this.computeUrl = computeUrl;
    this.imageUrl = imageUrl;
  }

  /** Logs in as `user`; the endpoints are the public ones of `region` (the devcloud's catalog has RegionOne and RegionTwo). */
  static async login(user: DevcloudUser, region = globalThis.process?.env?.OS_REGION_NAME || "RegionOne"): Promise<Devcloud> {
    const res = await fetch(`${user.authUrl}/auth/tokens`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: { methods: ["password"], password: { user: { name: user.username, domain: { name: user.userDomainName }, password: user.password } } },
          scope: { project: { name: user.projectName, domain: { name: user.projectDomainName } } },
        },
      }),
    });
    if (res.status !== 201) throw new Error(`devcloud login as ${user.username} -> ${res.status}`);
    const token = res.headers.get("x-subject-token");
    const body = (await res.json()) as {
      token: { project: { id: string }; user: { id: string }; catalog: Array<{ type: string; endpoints: Array<{ interface: string; region_id?: string; url: string }> }> };
    };
    const endpoint = (type: string): string => {
      const url = body.token.catalog.find((s) => s.type === type)?.endpoints.find((e) => e.interface === "public" && e.region_id === region)?.url;
      if (url === undefined) throw new Error(`no public ${type} endpoint of region ${region} in the devcloud catalog`);
      return url.replace(/\/+$/, "");
    };
    if (token === null) throw new Error("no X-Subject-Token from the devcloud");
    return new Devcloud(user.authUrl, token, body.token.project.id, body.token.user.id, endpoint("compute"), endpoint("image"));
  }

  /** One REST call; `url` is absolute or relative to the compute endpoint. Nova calls use the newest microversion. */
  async call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
    const absolute = url.startsWith("http") ? url : `${this.computeUrl}${url}`;
    const res = await fetch(absolute, {
      method,
      headers: {
        "X-Auth-Token": this.token,
        Accept: "application/json",
        "X-OpenStack-Nova-API-Version": "latest",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      // keep the text (Keystone and Flask answer HTML on some errors)
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  async servers(): Promise<NovaServer[]> {
    const res = await this.call("GET", "/servers/detail?limit=1000");
    if (res.status !== 200) throw new Error(`GET /servers/detail -> ${res.status}`);
    return (res.body as { servers: NovaServer[] }).servers;
  }

  async server(id: string): Promise<NovaServer | undefined> {
    const res = await this.call("GET", `/servers/${id}`);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET /servers/${id} -> ${res.status}`);
    return (res.body as { server: NovaServer }).server;
  }

  /** Like serversWithMetadata, without servers on their way out (being deleted, DELETED, SOFT_DELETED). */
  async liveServersWithMetadata(key: string, value: string): Promise<NovaServer[]> {
    return (await this.serversWithMetadata(key, value)).filter(
      (s) => s.status !== "DELETED" && s.status !== "SOFT_DELETED" && s["OS-EXT-STS:task_state"] !== "deleting",
    );
  }

  /** Servers carrying a metadata key=value (Nova has no server-side metadata filter). */
  async serversWithMetadata(key: string, value: string): Promise<NovaServer[]> {
    return (await this.servers()).filter((s) => s.metadata[key] === value);
  }

  async image(id: string): Promise<GlanceImage | undefined> {
    const res = await this.call("GET", `${this.imageUrl}/v2/images/${id}`);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET image ${id} -> ${res.status}`);
    return res.body as GlanceImage;
  }

  /** Images this project owns (snapshots), all pages. */
  async ownImages(): Promise<GlanceImage[]> {
    const out: GlanceImage[] = [];
    let next: string | undefined = `/v2/images?owner=${this.projectId}&limit=100`;
    while (next !== undefined) {
      const res = await this.call("GET", `${this.imageUrl}${next}`);
      if (res.status !== 200) throw new Error(`GET images -> ${res.status}`);
      const page = res.body as { images: GlanceImage[]; next?: string };
      out.push(...page.images);
      next = page.next;
    }
    return out;
  }

  /** Boots one cirros-fake m1.tiny server straight through Nova (not through novascale), no network, and waits until it is ACTIVE. */
  async bootActive(name: string, metadata: Record<string, string>): Promise<string> {
    const image = await this.call("GET", `${this.imageUrl}/v2/images?name=cirros-fake`);
    const imageRef = (image.body as { images: Array<{ id: string }> }).images[0]!.id;
    const res = await this.call("POST", "/servers", { server: { name, imageRef, flavorRef: "1", networks: "none", metadata } });
    if (res.status !== 202) throw new Error(`boot ${name} -> ${res.status}: ${JSON.stringify(res.body)}`);
    const id = (res.body as { server: { id: string } }).server.id;
    await this.waitServerStatus(id, "ACTIVE");
    return id;
  }

  /**
   * Makes an image straight on Glance (not through Nova or novascale): `properties` as custom properties,
   * 16 bytes of data uploaded so that it is `active` like a real snapshot. Returns its id.
   */
  async uploadImage(name: string, properties: Record<string, string>): Promise<string> {
    const made = await this.call("POST", `${this.imageUrl}/v2/images`, { name, disk_format: "raw", container_format: "bare", visibility: "private", ...properties });
    if (made.status !== 201) throw new Error(`create image ${name} -> ${made.status}: ${JSON.stringify(made.body)}`);
    const id = (made.body as { id: string }).id;
    const upload = await fetch(`${this.imageUrl}/v2/images/${id}/file`, {
      method: "PUT",
      headers: { "X-Auth-Token": this.token, "Content-Type": "application/octet-stream" },
      body: new Uint8Array(16),
    });
    if (upload.status !== 204) throw new Error(`upload image ${name} -> ${upload.status}: ${await upload.text()}`);
    await this.waitImageStatus(id, "active");
    return id;
  }

  async waitServerStatus(id: string, status: string, timeoutMs = 60_000): Promise<NovaServer> {
    return waitFor(`server ${id} ${status}`, async () => {
      const server = await this.server(id);
      if (server === undefined) throw new Error(`server ${id} disappeared while waiting for ${status}`);
      if (server.status === "ERROR" && status !== "ERROR") throw new Error(`server ${id} went to ERROR: ${JSON.stringify(server.fault ?? null)}`);
      return server.status === status && !server["OS-EXT-STS:task_state"] ? server : undefined;
    }, timeoutMs);
  }

  async waitServerGone(id: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(`server ${id} gone`, async () => ((await this.server(id)) === undefined ? true : undefined), timeoutMs);
  }

  async waitImageStatus(id: string, status: string, timeoutMs = 60_000): Promise<GlanceImage> {
    return waitFor(`image ${id} ${status}`, async () => {
      const image = await this.image(id);
      return image?.status === status ? image : undefined;
    }, timeoutMs);
  }

  async deleteServer(id: string): Promise<void> {
    const res = await this.call("DELETE", `/servers/${id}`);
    if (res.status !== 204 && res.status !== 404) throw new Error(`DELETE server ${id} -> ${res.status}`);
  }

  async deleteImage(id: string): Promise<void> {
    const res = await this.call("DELETE", `${this.imageUrl}/v2/images/${id}`);
    if (res.status !== 204 && res.status !== 404) throw new Error(`DELETE image ${id} -> ${res.status}`);
  }

  /**
   * Deletes what the tier made: servers and images whose name starts with `prefix`, servers whose
   * novascale group starts with it, and the user's application credentials with that prefix.
   * Waits until the servers are gone so the next test sees the quota free. Returns what it deleted.
   */
  async sweep(prefix = TEST_PREFIX): Promise<{ servers: number; images: number }> {
    const servers = (await this.servers()).filter((s) => s.name.startsWith(prefix) || (s.metadata["novascale:group"] ?? "").startsWith(prefix));
    const images = (await this.ownImages()).filter((i) => i.name.startsWith(prefix));
    await Promise.all(servers.map((s) => this.deleteServer(s.id)));
    await Promise.all(images.map((i) => this.deleteImage(i.id)));
    const creds = await this.call("GET", `${this.authUrl}/users/${this.userId}/application_credentials`);
    if (creds.status === 200) {
      for (const c of (creds.body as { application_credentials: Array<{ id: string; name: string }> }).application_credentials) {
        if (c.name.startsWith(prefix)) await this.call("DELETE", `${this.authUrl}/users/${this.userId}/application_credentials/${c.id}`);
      }
    }
    await Promise.all(servers.map((s) => this.waitServerGone(s.id, 120_000)));
    return { servers: servers.length, images: images.length };
  }
}
