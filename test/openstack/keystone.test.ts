// Keystone: request bodies for every auth method, both v2.0 answer shapes, era detection, token cache, 401 re-auth.
import { describe, expect, it } from "vitest";
import { findEndpoint } from "../../src/openstack/catalog.ts";
import { OpenStackError } from "../../src/openstack/errors.ts";
import { credentialsFromSettings, identityEraOf, parseKeystoneTime } from "../../src/openstack/keystone.ts";
import { createTokenCache, Session } from "../../src/openstack/session.ts";
import bookToken from "../fixtures/book/keystone-v2.0-token-book.json";
import zedToken from "../fixtures/real-zed/keystone-token-demo.json";
import emptyList from "../fixtures/real-zed/nova-list-empty.json";
import { answer, type Canned, fakeClock, json, RECORDED_NOW, type Recorded, replay, TEST_PASSWORD, TEST_TOKEN, zedSettings } from "./support/replay.ts";

const V3_BODY = {
  auth: {
    identity: { methods: ["password"], password: { user: { name: "demo", domain: { name: "Default" }, password: TEST_PASSWORD } } },
    scope: { project: { name: "demo", domain: { name: "Default" } } },
  },
};

function session(r: ReturnType<typeof replay>, settings = zedSettings(), extra: Partial<ConstructorParameters<typeof Session>[0]> = {}) {
  const c = fakeClock();
  return {
    c,
    s: new Session({
      authUrl: settings.OS_AUTH_URL,
      credentials: credentialsFromSettings(settings),
      region: settings.OS_REGION_NAME,
      interface: settings.OS_INTERFACE,
      fetch: r.fetch,
      clock: c.clock,
      sleep: c.sleep,
      random: () => 0,
      ...extra,
    }),
  };
}

describe("Keystone v3", () => {
  it("password auth scoped to a project by name posts the exact body and reads the token from X-Subject-Token", async () => {
    const r = replay(answer(zedToken));
    const { s } = session(r);
    const auth = await s.auth();
    expect(r.requests[0]).toMatchObject({ method: "POST", url: "http://127.0.0.1:5000/v3/auth/tokens", body: V3_BODY });
    expect(r.requests[0]!.headers["content-type"]).toBe("application/json");
    expect(r.requests[0]!.headers["x-auth-token"]).toBeUndefined();
    expect(auth.token).toBe(TEST_TOKEN);
    expect(auth.expiresAt).toBe(Date.parse("2026-11-26T21:18:17Z"));
    expect(auth.projectId).toBe("bf28d8de30484b99bb097b2b31df7a61");
    expect(await s.endpoint("compute")).toBe("http://127.0.0.1:8774/v2.1");
    expect(await s.endpoint("image")).toBe("http://127.0.0.1:9292");
  });

  it("a project id scopes by id", async () => {
    const r = replay(answer(zedToken));
    const { s } = session(r, zedSettings({ OS_PROJECT_ID: "bf28d8de30484b99bb097b2b31df7a61" }));
    await s.auth();
    expect((r.requests[0]!.body as typeof V3_BODY).auth.scope).toEqual({ project: { id: "bf28d8de30484b99bb097b2b31df7a61" } });
  });

  it("an application credential sends id and secret and no scope", async () => {
    const r = replay(answer(zedToken));
    const { s } = session(r, zedSettings({ OS_APPLICATION_CREDENTIAL_ID: "ac-1", OS_APPLICATION_CREDENTIAL_SECRET: "ac-secret" }));
    await s.auth();
    expect(r.requests[0]!.body).toEqual({ auth: { identity: { methods: ["application_credential"], application_credential: { id: "ac-1", secret: "ac-secret" } } } });
  });

  it("token auth sends the token method with a project scope", async () => {
    const r = replay(answer(zedToken));
    const { c } = session(r);
    const s = new Session({ authUrl: "http://127.0.0.1:5000/v3", credentials: { method: "token", token: "old-token", projectId: "p1" }, fetch: r.fetch, clock: c.clock });
    await s.auth();
    expect(r.requests[0]!.body).toEqual({ auth: { identity: { methods: ["token"], token: { id: "old-token" } }, scope: { project: { id: "p1" } } } });
  });

  it("a wrong password is an auth error whose message holds no password", async () => {
    const r = replay(json(401, { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } }));
    const { s } = session(r);
    const e = await s.auth().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenStackError);
    expect(e).toMatchObject({ status: 401, category: "auth", kind: "unauthorized" });
    expect(JSON.stringify((e as OpenStackError).toJSON()) + (e as Error).message).not.toContain(TEST_PASSWORD);
  });

  it("a 201 without X-Subject-Token is a cloud error", async () => {
    const r = replay({ status: 201, body: zedToken.response.body, headers: { "Content-Type": "application/json" } });
    const { s } = session(r);
    await expect(s.auth()).rejects.toMatchObject({ category: "cloud", kind: "unexpectedResponse" });
  });
});

describe("Keystone v2.0", () => {
  const v2Settings = zedSettings({ OS_AUTH_URL: "http://localhost:5000/v2.0" });

  it("posts the standard passwordCredentials body with the tenant", async () => {
    const r = replay(json(200, { access: { token: { id: "v2tok", expires: "2026-11-26T21:00:00Z", tenant: { id: "t1" } }, serviceCatalog: [] } }));
    const { s } = session(r, v2Settings);
    await s.auth();
    expect(r.requests[0]).toMatchObject({ method: "POST", url: "http://localhost:5000/v2.0/tokens", body: { auth: { passwordCredentials: { username: "demo", password: TEST_PASSWORD }, tenantName: "demo" } } });
  });

  it("reads the standard access body: token, expiry, tenant and a publicURL-style catalog", async () => {
    const body = {
      access: {
        token: { id: "v2tok", expires: "2026-11-26T21:00:00Z", tenant: { id: "t1", name: "demo" } },
        serviceCatalog: [
          { type: "compute", name: "nova", endpoints: [{ region: "RegionOne", publicURL: "http://nova:8774/v2/t1", internalURL: "http://nova-int:8774/v2/t1", adminURL: "http://nova-adm:8774/v2/t1" }] },
          { type: "image", name: "glance", endpoints: [{ region: "RegionOne", publicURL: "http://glance:9292" }] },
        ],
      },
    };
    const r = replay(json(200, body));
    const { s } = session(r, zedSettings({ OS_AUTH_URL: "http://localhost:5000/v2.0", OS_INTERFACE: "internalURL" }));
    const auth = await s.auth();
    expect(auth).toMatchObject({ token: "v2tok", era: "v2.0", projectId: "t1", expiresAt: Date.parse("2026-11-26T21:00:00Z") });
    expect(await s.endpoint("compute")).toBe("http://nova-int:8774/v2/t1");
  });

  it("reads the book's body: auth.token and a catalog keyed by service name", async () => {
    const r = replay(answer(bookToken));
    const { s } = session(r, v2Settings);
    const auth = await s.auth();
    expect(auth.token).toBe("999888777666");
    expect(auth.expiresAt).toBe(Date.parse("2015-02-05T00:00:00Z"));
    expect(await s.endpoint("compute")).toBe("http://10.0.2.15:8774/v1.1/openstack");
    expect(findEndpoint(auth.catalog, { type: "image" })).toBe("http://10.0.2.15:9292/v1");
  });

  it("falls back to the book's request body when the standard one is refused with 400", async () => {
    const r = replay(json(400, { badRequest: { code: 400, message: "Expecting passwordCredentials" } }), answer(bookToken));
    const { s } = session(r, v2Settings);
    await s.auth();
    expect(r.requests[1]!.body).toEqual({ passwordCredentials: { username: "demo", password: TEST_PASSWORD } });
    expect(Object.keys(r.requests[1]!.body as object)).toEqual(Object.keys(bookToken.request.body));
  });

  it("the book's token, 'expired' by our clock, is used anyway (a 401 will tell) instead of re-authenticating every call", async () => {
    const r = replay(answer(bookToken), json(200, { servers: [] }), json(200, { servers: [] }));
    const { s } = session(r, v2Settings);
    await s.request({ method: "GET", url: "http://10.0.2.15:8774/v1.1/openstack/servers", service: "compute" });
    await s.request({ method: "GET", url: "http://10.0.2.15:8774/v1.1/openstack/servers", service: "compute" });
    expect(r.requests.map((q) => q.url)).toEqual(["http://localhost:5000/v2.0/tokens", "http://10.0.2.15:8774/v1.1/openstack/servers", "http://10.0.2.15:8774/v1.1/openstack/servers"]);
    expect(r.requests[1]!.headers["x-auth-token"]).toBe("999888777666");
  });

  it("an application credential needs v3", async () => {
    const r = replay();
    const { s } = session(r, zedSettings({ OS_AUTH_URL: "http://localhost:5000/v2.0", OS_APPLICATION_CREDENTIAL_ID: "a", OS_APPLICATION_CREDENTIAL_SECRET: "b" }));
    await expect(s.auth()).rejects.toMatchObject({ category: "config", kind: "unsupportedCredentials" });
    expect(r.requests).toHaveLength(0);
  });
});

describe("era from the auth URL", () => {
  it.each([
    ["http://k:5000/v3", "v3"],
    ["http://k:5000/v3/", "v3"],
    ["http://k:5000/v2.0", "v2.0"],
    ["http://k:5000/identity/v2.0/", "v2.0"],
    ["http://k:5000", "root"],
    ["http://k/identity", "root"],
  ] as const)("%s -> %s", (url, era) => {
    expect(identityEraOf(url)).toBe(era);
  });

  it("a bare root tries v3 first", async () => {
    const r = replay(answer(zedToken));
    const { s } = session(r, zedSettings({ OS_AUTH_URL: "http://127.0.0.1:5000" }));
    await s.auth();
    expect(r.requests[0]!.url).toBe("http://127.0.0.1:5000/v3/auth/tokens");
  });

  it("a bare root whose /v3 is 404 falls back to v2.0", async () => {
    const r = replay(json(404, { itemNotFound: { code: 404, message: "no v3" } }), answer(bookToken));
    const { s } = session(r, zedSettings({ OS_AUTH_URL: "http://localhost:5000" }));
    expect((await s.auth()).token).toBe("999888777666");
    expect(r.requests[1]!.url).toBe("http://localhost:5000/v2.0/tokens");
  });
});

describe("token cache", () => {
  const listServers = { method: "GET", url: "http://127.0.0.1:8774/v2.1/servers", service: "compute" } as const;

  it("authenticates once for many requests and sends the token on each", async () => {
    const r = replay(answer(zedToken), answer(emptyList), answer(emptyList));
    const { s } = session(r);
    await s.request(listServers);
    await s.request(listServers);
    expect(r.requests).toHaveLength(3);
    expect(r.requests.slice(1).map((q) => q.headers["x-auth-token"])).toEqual([TEST_TOKEN, TEST_TOKEN]);
  });

  it("refreshes early: within the margin before expires_at it authenticates again", async () => {
    const r = replay(answer(zedToken), answer(emptyList), answer(zedToken, "second-token"), answer(emptyList));
    const { s, c } = session(r);
    await s.request(listServers);
    c.advance(Date.parse("2026-11-26T21:15:00Z") - RECORDED_NOW); // 3 min before expiry, inside the 5 min margin
    await s.request(listServers);
    expect(r.requests.map((q) => q.url)).toEqual([
      "http://127.0.0.1:5000/v3/auth/tokens",
      "http://127.0.0.1:8774/v2.1/servers",
      "http://127.0.0.1:5000/v3/auth/tokens",
      "http://127.0.0.1:8774/v2.1/servers",
    ]);
    expect(r.requests[3]!.headers["x-auth-token"]).toBe("second-token");
  });

  it("a shared cache lets a second session skip Keystone", async () => {
    const cache = createTokenCache();
    const r = replay(answer(zedToken), answer(emptyList), answer(emptyList));
    await session(r, zedSettings(), { tokenCache: cache }).s.request(listServers);
    await session(r, zedSettings(), { tokenCache: cache }).s.request(listServers);
    expect(r.requests.filter((q) => q.url.endsWith("/auth/tokens"))).toHaveLength(1);
  });

  it("the cache key holds no password", async () => {
    const keys: string[] = [];
    const cache = { get: () => undefined, set: (k: string) => void keys.push(k), delete: () => undefined };
    const r = replay(answer(zedToken));
    await session(r, zedSettings(), { tokenCache: cache }).s.auth();
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain(TEST_PASSWORD);
  });
});

describe("401 re-authentication", () => {
  const listServers = { method: "GET", url: "http://127.0.0.1:8774/v2.1/servers", service: "compute" } as const;
  const unauthorized = { status: 401, body: "401 Unauthorized", headers: { "Content-Type": "text/plain" } };

  it("a revoked token is replaced once and the request replayed", async () => {
    const r = replay(answer(zedToken), unauthorized, answer(zedToken, "fresh-token"), answer(emptyList));
    const { s } = session(r);
    expect((await s.request(listServers)).status).toBe(200);
    expect(r.requests[3]!.headers["x-auth-token"]).toBe("fresh-token");
  });

  it("a second 401 after re-authenticating is an auth error (no loop)", async () => {
    const r = replay(answer(zedToken), unauthorized, answer(zedToken), unauthorized, answer(emptyList));
    const { s } = session(r);
    await expect(s.request(listServers)).rejects.toMatchObject({ status: 401, category: "auth" });
    expect(r.remaining()).toBe(1);
  });
});

describe("Keystone times", () => {
  it("reads microseconds and Z", () => {
    expect(parseKeystoneTime("2026-11-26T21:18:17.123456Z")).toBe(Date.parse("2026-11-26T21:18:17.123Z"));
  });
  it("reads a zone-less book time as UTC", () => {
    expect(parseKeystoneTime("2015-02-05T00:00:00")).toBe(Date.UTC(2015, 1, 5));
  });
});

describe("parallel 401s", () => {
  it("a 401 that arrives after another request already re-authenticated keeps the new token", async () => {
    const unauthorized: Canned = { status: 401, body: "401 Unauthorized", headers: { "Content-Type": "text/plain" } };
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let auths = 0;
    let oldTokenCalls = 0;
    const respond = async (q: Recorded): Promise<Canned> => {
      if (q.url.endsWith("/auth/tokens")) return answer(zedToken, ++auths === 1 ? TEST_TOKEN : `token-${auths}`);
      if (q.headers["x-auth-token"] !== TEST_TOKEN) return answer(emptyList);
      if (++oldTokenCalls === 1) await gate; // the first request's 401 is slow
      return unauthorized;
    };
    const r = replay(...Array.from({ length: 8 }, () => respond));
    const { s } = session(r);
    await s.auth();
    const get = () => s.request({ method: "GET", url: "http://127.0.0.1:8774/v2.1/servers", service: "compute" });
    const slow = get();
    await get();
    release();
    await slow;
    expect(auths).toBe(2);
  });
});
