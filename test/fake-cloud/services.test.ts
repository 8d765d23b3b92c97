// The fake cloud's Keystone (v3 and v2.0), the book's Nova v1.1, Glance v2, rate limits and isolated clouds.
import { describe, expect, it } from "vitest";
import { FakeCloud } from "./cloud.ts";
import { FakeCloudHost } from "./host.ts";
import { FakeSession } from "./session.ts";
import { BASE, boot, cirrosId, freshCloud, obj } from "./testing.ts";

function post(cloud: FakeCloud | FakeCloudHost, path: string, body: unknown, headers: Record<string, string> = {}) {
  return cloud.fetch(`${BASE}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

const passwordAuth = (name: string, password: string, project?: string) => ({
  auth: {
    identity: { methods: ["password"], password: { user: { name, domain: { id: "default" }, password } } },
    ...(project === undefined ? {} : { scope: { project: { name: project, domain: { id: "default" } } } }),
  },
});

describe("Keystone v3", () => {
  it("issues a token in X-Subject-Token with a catalog pointing back at the emulator", async () => {
    const cloud = new FakeCloud();
    const res = await post(cloud, "/identity/v3/auth/tokens", passwordAuth("demo", "demo-password", "demo"));
    const body = (await res.json()) as { token: { catalog: Array<{ type: string; endpoints: Array<{ interface: string; url: string }> }> } };
    const compute = body.token.catalog.find((s) => s.type === "compute")?.endpoints.find((e) => e.interface === "public")?.url;
    expect([res.status, res.headers.has("X-Subject-Token"), compute]).toEqual([201, true, `${BASE}/compute/v2.1`]);
  });

  it("refuses a wrong password with 401", async () => {
    const cloud = new FakeCloud();
    expect((await post(cloud, "/identity/v3/auth/tokens", passwordAuth("demo", "nope", "demo"))).status).toBe(401);
  });

  it("refuses a project the user is not a member of", async () => {
    const cloud = new FakeCloud();
    expect((await post(cloud, "/identity/v3/auth/tokens", passwordAuth("demo", "demo-password", "admin"))).status).toBe(401);
  });

  it("issues an unscoped token (no catalog) when no scope is asked for", async () => {
    const cloud = new FakeCloud();
    const body = (await (await post(cloud, "/identity/v3/auth/tokens", passwordAuth("demo", "demo-password"))).json()) as { token: Record<string, unknown> };
    expect("catalog" in body.token).toBe(false);
  });

  it("logs in with an application credential, scoped to its project", async () => {
    const cloud = new FakeCloud();
    const res = await post(cloud, "/identity/v3/auth/tokens", {
      auth: { identity: { methods: ["application_credential"], application_credential: { id: "demo-app-cred", secret: "demo-app-cred-secret" } } },
    });
    const body = (await res.json()) as { token: { project: { name: string } } };
    expect([res.status, body.token.project.name]).toEqual([201, "demo"]);
  });

  it("refuses an application credential with the wrong secret", async () => {
    const cloud = new FakeCloud();
    const res = await post(cloud, "/identity/v3/auth/tokens", {
      auth: { identity: { methods: ["application_credential"], application_credential: { id: "demo-app-cred", secret: "wrong" } } },
    });
    expect(res.status).toBe(401);
  });

  it("exchanges a token for a new scoped token (token method)", async () => {
    const cloud = new FakeCloud();
    const first = await post(cloud, "/identity/v3/auth/tokens", passwordAuth("demo", "demo-password"));
    const id = first.headers.get("X-Subject-Token") ?? "";
    const res = await post(cloud, "/identity/v3/auth/tokens", {
      auth: { identity: { methods: ["token"], token: { id } }, scope: { project: { name: "demo", domain: { name: "Default" } } } },
    });
    expect(res.status).toBe(201);
  });

  it("serves configured users and projects", async () => {
    const cloud = new FakeCloud({ users: [{ name: "ops", password: "s3cret", project: "prod" }] });
    expect((await post(cloud, "/identity/v3/auth/tokens", passwordAuth("ops", "s3cret", "prod"))).status).toBe(201);
  });

  it("revokes a token with DELETE /v3/auth/tokens", async () => {
    const { cloud, s } = await freshCloud();
    await cloud.fetch(`${BASE}/identity/v3/auth/tokens`, { method: "DELETE", headers: { "X-Auth-Token": s.token, "X-Subject-Token": s.token } });
    expect((await s.nova("GET", "/servers")).status).toBe(401);
  });
});

describe("Keystone v2.0", () => {
  it("answers the book's request body with the book's response body", async () => {
    const cloud = new FakeCloud();
    const res = await post(cloud, "/identity/v2.0/tokens", { passwordCredentials: { username: "demo", password: "demo-password" } });
    const body = (await res.json()) as { auth: { token: { id: string }; serviceCatalog: Record<string, Array<{ publicURL: string }>> } };
    expect(Object.keys(body.auth.serviceCatalog).sort()).toEqual(["glance", "identity", "nova"]);
    expect(body.auth.serviceCatalog.nova?.[0]?.publicURL).toMatch(new RegExp(`^${BASE}/compute/v1\\.1/[0-9a-f]{32}$`));
  });

  it("answers the standard request body with an `access` body", async () => {
    const cloud = new FakeCloud();
    const res = await post(cloud, "/identity/v2.0/tokens", { auth: { tenantName: "demo", passwordCredentials: { username: "demo", password: "demo-password" } } });
    const body = (await res.json()) as { access: { token: { id: string; tenant: { name: string } }; serviceCatalog: Array<{ type: string }> } };
    expect([body.access.token.tenant.name, body.access.serviceCatalog.map((s) => s.type)]).toEqual(["demo", ["compute", "image", "identity"]]);
  });

  it("answers the `access` body to both request styles when told to", async () => {
    const cloud = new FakeCloud({ keystoneV2Style: "access" });
    const res = await post(cloud, "/identity/v2.0/tokens", { passwordCredentials: { username: "demo", password: "demo-password" } });
    expect(Object.keys((await res.json()) as object)).toEqual(["access"]);
  });

  it("answers 404 like modern Keystone when v2.0 is off", async () => {
    const cloud = new FakeCloud({ keystoneV2: false });
    expect((await post(cloud, "/identity/v2.0/tokens", { passwordCredentials: { username: "demo", password: "demo-password" } })).status).toBe(404);
  });
});

async function bookSession(cloud: FakeCloud): Promise<{ token: string; nova: string }> {
  const res = await post(cloud, "/identity/v2.0/tokens", { passwordCredentials: { username: "demo", password: "demo-password" } });
  const body = (await res.json()) as { auth: { token: { id: string }; serviceCatalog: { nova: Array<{ publicURL: string }> } } };
  return { token: body.auth.token.id, nova: body.auth.serviceCatalog.nova[0]?.publicURL ?? "" };
}

describe("the book's Nova v1.1", () => {
  it("boots with image and flavor refs given as URLs and answers a numeric id", async () => {
    const cloud = new FakeCloud({ mode: "book" });
    const { token, nova } = await bookSession(cloud);
    const res = await post(cloud, new URL(`${nova}/servers`).pathname, { server: { name: "tornado001", imageRef: `${nova}/images/1`, flavorRef: `${nova}/flavors/1`, metadata: { "Server Name": "Tornado" } } }, { "X-Auth-Token": token });
    const server = ((await res.json()) as { server: { id: unknown; uuid: string; status: string; adminPass: string } }).server;
    expect([res.status, server.id, server.status, typeof server.uuid, typeof server.adminPass]).toEqual([202, 1, "BUILD", "string", "string"]);
  });

  it("shows a server by its numeric id", async () => {
    const cloud = new FakeCloud({ mode: "book", buildMs: 0 });
    const { token, nova } = await bookSession(cloud);
    await post(cloud, new URL(`${nova}/servers`).pathname, { server: { name: "t", imageRef: "1", flavorRef: "1" } }, { "X-Auth-Token": token });
    const res = await cloud.fetch(`${nova}/servers/1`, { headers: { "X-Auth-Token": token } });
    const server = ((await res.json()) as { server: { id: number; status: string; progress: number } }).server;
    expect([server.id, server.status, server.progress]).toEqual([1, "ACTIVE", 100]);
  });

  it("refuses a sixth personality file with 403", async () => {
    const cloud = new FakeCloud({ mode: "book" });
    const { token, nova } = await bookSession(cloud);
    const personality = Array.from({ length: 6 }, (_, i) => ({ path: `/etc/f${i}`, contents: btoa("x") }));
    const res = await post(cloud, new URL(`${nova}/servers`).pathname, { server: { name: "p", imageRef: "1", flavorRef: "1", personality } }, { "X-Auth-Token": token });
    expect([res.status, await res.json()]).toEqual([403, { forbidden: { code: 403, message: "Personality file limit exceeded" } }]);
  });

  it("refuses a personality file over 10,240 bytes with 403", async () => {
    const cloud = new FakeCloud({ mode: "book" });
    const { token, nova } = await bookSession(cloud);
    const personality = [{ path: "/etc/big", contents: btoa("x".repeat(10_241)) }];
    const res = await post(cloud, new URL(`${nova}/servers`).pathname, { server: { name: "p", imageRef: "1", flavorRef: "1", personality } }, { "X-Auth-Token": token });
    expect(res.status).toBe(403);
  });

  it("answers the book's words for a missing name", async () => {
    const cloud = new FakeCloud({ mode: "book" });
    const { token, nova } = await bookSession(cloud);
    const res = await post(cloud, new URL(`${nova}/servers`).pathname, { server: { name: "", imageRef: "1", flavorRef: "1" } }, { "X-Auth-Token": token });
    expect(await res.json()).toEqual({ badRequest: { message: "Server name is an empty string", code: 400 } });
  });

  it("reports the book's limits: 5 metadata items, 5 personality files of 10,240 bytes", async () => {
    const cloud = new FakeCloud({ mode: "book" });
    const { token, nova } = await bookSession(cloud);
    const res = await cloud.fetch(`${nova}/limits`, { headers: { "X-Auth-Token": token } });
    const absolute = ((await res.json()) as { limits: { absolute: Record<string, number> } }).limits.absolute;
    expect(absolute).toMatchObject({ maxServerMeta: 5, maxImageMeta: 5, maxPersonality: 5, maxPersonalitySize: 10240 });
  });

  it("refuses a URL whose project is not the token's", async () => {
    const cloud = new FakeCloud({ mode: "book" });
    const { token } = await bookSession(cloud);
    const res = await cloud.fetch(`${BASE}/compute/v1.1/someone-else/servers`, { headers: { "X-Auth-Token": token } });
    expect(res.status).toBe(400);
  });
});

describe("rate limits", () => {
  it("answers 413 overLimit with Retry-After past the configured rate, and shows the rate in /limits", async () => {
    const { cloud, s } = await freshCloud({ rateLimits: [{ verb: "POST", value: 2, unit: "MINUTE" }] });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await boot(cloud, s, `r${i}`)).status);
    const limited = await boot(cloud, s, "again");
    expect(statuses).toEqual([202, 202, 413]);
    expect(limited.headers.get("Retry-After")).toBe("60");
    expect(obj(await s.nova("GET", "/limits")).limits.rate[0].limit[0]).toMatchObject({ verb: "POST", value: 2, remaining: 0, unit: "MINUTE" });
  });

  it("lets requests through again once the window has passed", async () => {
    const { cloud, s } = await freshCloud({ rateLimits: [{ verb: "POST", value: 1, unit: "MINUTE" }] });
    await boot(cloud, s, "a");
    cloud.advance(60_000);
    expect((await boot(cloud, s, "b")).status).toBe(202);
  });
});

describe("Glance v2", () => {
  it("filters images by a custom property", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = obj(await boot(cloud, s, "src")).server.id as string;
    await s.nova("POST", `/servers/${id}/action`, { createImage: { name: "mine", metadata: { "novascale:group": "web" } } });
    await s.nova("POST", `/servers/${id}/action`, { createImage: { name: "other", metadata: { "novascale:group": "db" } } });
    const listed = obj(await s.glance("GET", "/images?novascale%3Agroup=web")).images as Array<{ name: string }>;
    expect(listed.map((i) => i.name)).toEqual(["mine"]);
  });

  it("deletes an own image with 204, then answers 404", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = obj(await boot(cloud, s, "src")).server.id as string;
    const imageId = obj(await s.nova("POST", `/servers/${id}/action`, { createImage: { name: "gone" } })).image_id as string;
    expect((await s.glance("DELETE", `/images/${imageId}`)).status).toBe(204);
    expect((await s.glance("GET", `/images/${imageId}`)).status).toBe(404);
  });

  it("refuses to delete another project's public image with 403", async () => {
    const { cloud, s } = await freshCloud();
    expect((await s.glance("DELETE", `/images/${cirrosId(cloud)}`)).status).toBe(403);
  });

  it("pages with limit and a next link", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = obj(await boot(cloud, s, "src")).server.id as string;
    for (const name of ["a", "b"]) {
      await s.nova("POST", `/servers/${id}/action`, { createImage: { name } });
      cloud.advance(cloud.options.snapshotMs); // one snapshot at a time per server, as in Nova
    }
    const page = obj(await s.glance("GET", "/images?limit=2"));
    expect([page.images.length, typeof page.next]).toEqual([2, "string"]);
  });

  it("hides other projects' private images", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = obj(await boot(cloud, s, "src")).server.id as string;
    const imageId = obj(await s.nova("POST", `/servers/${id}/action`, { createImage: { name: "private" } })).image_id as string;
    const admin = await FakeSession.login(BASE, cloud.fetch, { user: "admin", password: "admin-password", project: "admin" });
    // The admin role sees everything, so a second project's member checks privacy.
    cloud.users.set("u2", { id: "u2", name: "eve", password: "pw", domainId: "default", projectId: "p2", roles: ["member"] });
    cloud.projects.set("p2", { id: "p2", name: "other", domainId: "default" });
    const eve = await FakeSession.login(BASE, cloud.fetch, { user: "eve", password: "pw", project: "other" });
    expect([(await admin.glance("GET", `/images/${imageId}`)).status, (await eve.glance("GET", `/images/${imageId}`)).status]).toEqual([200, 404]);
  });
});

describe("isolated clouds", () => {
  it("keeps each cloud's servers to itself", async () => {
    const host = new FakeCloudHost({ seed: 3 });
    const res = await post(host, "/_fake/clouds", {});
    const { url } = (await res.json()) as { url: string };
    const isolated = await FakeSession.login(url, host.fetch);
    const image = [...(host.getCloud("c1")?.images.values() ?? [])][0]?.id;
    await isolated.nova("POST", "/servers", { server: { name: "mine", imageRef: image, flavorRef: "1", networks: "none" } });
    const main = await FakeSession.login(BASE, host.fetch);
    expect([(obj(await isolated.nova("GET", "/servers")).servers as unknown[]).length, (obj(await main.nova("GET", "/servers")).servers as unknown[]).length]).toEqual([1, 0]);
  });

  it("puts the isolated cloud's own prefix in its catalog", async () => {
    const host = new FakeCloudHost();
    const { url } = (await (await post(host, "/_fake/clouds", { id: "t1" })).json()) as { url: string };
    const res = await host.fetch(`${url}/identity/v3/auth/tokens`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(passwordAuth("demo", "demo-password", "demo")) });
    const body = (await res.json()) as { token: { catalog: Array<{ type: string; endpoints: Array<{ url: string }> }> } };
    expect(body.token.catalog.find((c) => c.type === "compute")?.endpoints[0]?.url).toBe(`${BASE}/clouds/t1/compute/v2.1`);
  });
});
