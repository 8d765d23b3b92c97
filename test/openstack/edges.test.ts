// Issue 15's client edges: unversioned compute endpoints, domains by id, paging loops, redirects, the book's metadata dialect, request ids.
import { describe, expect, it } from "vitest";
import { credentialsFromSettings, v3AuthBody } from "../../src/openstack/keystone.ts";
import { followPages } from "../../src/openstack/paging.ts";
import { createGlanceClient } from "../../src/openstack/glance.ts";
import { createNovaClient } from "../../src/openstack/compute/client.ts";
import { versionUrl } from "../../src/openstack/compute/versions.ts";
import { categorize } from "../../src/openstack/errors.ts";
import { GLOBAL_REQUEST_ID, Transport } from "../../src/openstack/http.ts";
import { Session } from "../../src/openstack/session.ts";
import bookToken from "../fixtures/book/keystone-v2.0-token-book.json";
import zedToken from "../fixtures/real-zed/keystone-token-demo.json";
import emptyList from "../fixtures/real-zed/nova-list-empty.json";
import versionsRoot from "../fixtures/real-zed/nova-versions-root.json";
import versionDoc from "../fixtures/real-zed/nova-version-v2.1.json";
import { answer, json, replay, type Responder, zedSettings } from "./support/replay.ts";
import { zedCloud, zedNova, zedSession } from "./support/zed.ts";

const SERVER = "1c7e5f8a-52f4-4bb7-9d43-6b40d4b0e0a1";

describe("an unversioned compute endpoint", () => {
  it("an override naming the service root under a path prefix sends calls to the chosen version under it", async () => {
    const { r, cloud } = zedCloud([answer(zedToken), answer(versionsRoot), json(200, { servers: [] })], {
      endpointOverrides: { compute: "https://cloud.example/compute" },
    });
    await cloud.listServers();
    expect(r.requests[1]!.url).toBe("https://cloud.example/compute/");
    // The root's links name http://127.0.0.1:8774/v2.1/ (Nova's own view); only the version segment is taken.
    expect(r.requests[2]!.url).toBe("https://cloud.example/compute/v2.1/servers/detail");
    expect(r.requests[2]!.headers["openstack-api-version"]).toBe("compute 2.93");
  });

  it("http://127.0.0.1:8774/ (the bare root) is discovered once and called at /v2.1", async () => {
    const { r, cloud } = zedCloud([answer(zedToken), answer(versionsRoot), json(200, { servers: [] }), json(200, { servers: [] })], {
      endpointOverrides: { compute: "http://127.0.0.1:8774/" },
    });
    await cloud.listServers();
    await cloud.listServers();
    expect(r.requests.map((q) => q.url).slice(1)).toEqual([
      "http://127.0.0.1:8774/",
      "http://127.0.0.1:8774/v2.1/servers/detail",
      "http://127.0.0.1:8774/v2.1/servers/detail",
    ]);
  });

  it("an endpoint that already names its version (or a project under it) is kept as it is", () => {
    const entry = versionsRoot.response.body.versions[1]!;
    expect(versionUrl("https://nova.example/v2.1", entry)).toBe("https://nova.example/v2.1");
    expect(versionUrl("https://nova.example/compute/v2.1/abc123", entry)).toBe("https://nova.example/compute/v2.1/abc123");
    expect(versionUrl("https://nova.example/compute", entry)).toBe("https://nova.example/compute/v2.1");
  });

  it("a single version document at the endpoint means the endpoint is that version, whatever its path", async () => {
    const { r, cloud } = zedCloud([answer(zedToken), answer(versionDoc), json(200, { servers: [] })], {
      endpointOverrides: { compute: "https://cloud.example/nova" },
    });
    await cloud.listServers();
    expect(r.requests[2]!.url).toBe("https://cloud.example/nova/servers/detail");
  });
});

describe("domains by id", () => {
  const body = (overrides: Record<string, string>) => v3AuthBody(credentialsFromSettings(zedSettings(overrides))) as { auth: { identity: { password: { user: { domain: unknown } } }; scope: { project: { domain: unknown } } } };

  it("OS_USER_DOMAIN_ID and OS_PROJECT_DOMAIN_ID scope by domain id, with no domain name", () => {
    const b = body({ OS_USER_DOMAIN_NAME: "", OS_PROJECT_DOMAIN_NAME: "", OS_USER_DOMAIN_ID: "d0m41n-u", OS_PROJECT_DOMAIN_ID: "d0m41n-p" });
    expect(b.auth.identity.password.user.domain).toEqual({ id: "d0m41n-u" });
    expect(b.auth.scope.project.domain).toEqual({ id: "d0m41n-p" });
  });

  it("an id beats a name at the same level (as keystoneauth)", () => {
    const b = body({ OS_USER_DOMAIN_ID: "d0m41n-u", OS_PROJECT_DOMAIN_ID: "d0m41n-p" });
    expect(b.auth.identity.password.user.domain).toEqual({ id: "d0m41n-u" });
    expect(b.auth.scope.project.domain).toEqual({ id: "d0m41n-p" });
  });

  it("OS_DEFAULT_DOMAIN_ID stands for both domains when neither is given", () => {
    const b = body({ OS_USER_DOMAIN_NAME: "", OS_PROJECT_DOMAIN_NAME: "", OS_DEFAULT_DOMAIN_ID: "shared" });
    expect(b.auth.identity.password.user.domain).toEqual({ id: "shared" });
    expect(b.auth.scope.project.domain).toEqual({ id: "shared" });
  });

  it("OS_DEFAULT_DOMAIN_NAME stands for both domains when neither is given", () => {
    const b = body({ OS_USER_DOMAIN_NAME: "", OS_PROJECT_DOMAIN_NAME: "", OS_DEFAULT_DOMAIN_NAME: "Partners" });
    expect(b.auth.identity.password.user.domain).toEqual({ name: "Partners" });
    expect(b.auth.scope.project.domain).toEqual({ name: "Partners" });
  });

  it("a domain named for the user or project itself wins over the default one", () => {
    const b = body({ OS_USER_DOMAIN_NAME: "Users", OS_PROJECT_DOMAIN_NAME: "", OS_DEFAULT_DOMAIN_ID: "shared" });
    expect(b.auth.identity.password.user.domain).toEqual({ name: "Users" });
    expect(b.auth.scope.project.domain).toEqual({ id: "shared" });
  });

  it("the domain ids reach Keystone in the token request", async () => {
    const r = replay(answer(zedToken), answer(versionDoc), answer(emptyList));
    const { cloud } = zedCloud([], {
      fetch: r.fetch,
      settings: { OS_USER_DOMAIN_NAME: "", OS_PROJECT_DOMAIN_NAME: "", OS_USER_DOMAIN_ID: "0a1b2c", OS_PROJECT_DOMAIN_ID: "0a1b2c" },
    });
    await cloud.listServers();
    expect(r.requests[0]!.body).toMatchObject({ auth: { identity: { password: { user: { name: "demo", domain: { id: "0a1b2c" } } } }, scope: { project: { name: "demo", domain: { id: "0a1b2c" } } } } });
  });
});

describe("paging", () => {
  const image = (id: string) => ({ id, name: id, status: "active" });

  it("Glance: a `next` that repeats a marker is an error, not a short or endless list", async () => {
    const { session } = zedSession([
      answer(zedToken),
      json(200, { images: [image("a")], next: "/v2/images?marker=a" }),
      json(200, { images: [image("b")], next: "/v2/images?marker=a" }),
    ]);
    await expect(createGlanceClient(session).list()).rejects.toMatchObject({ kind: "pagingLoop", category: "transient" });
  });

  it("flavors: a repeated marker is an error", async () => {
    const page = (id: string) => json(200, { flavors: [{ id, name: id }], flavors_links: [{ rel: "next", href: "http://127.0.0.1:8774/v2.1/flavors/detail?marker=1" }] });
    const { nova } = zedNova([page("1"), page("2")]);
    await expect(nova.flavors.list()).rejects.toMatchObject({ kind: "pagingLoop", message: expect.stringContaining("flavor listing does not end") });
  });

  it("Nova's image proxy: a repeated marker is an error", async () => {
    const page = json(200, { images: [{ id: "i1", name: "x" }], images_links: [{ rel: "next", href: "http://127.0.0.1:8774/v2.1/images/detail?marker=i1" }] });
    const { nova } = zedNova([page, page]);
    await expect(nova.images.list()).rejects.toMatchObject({ kind: "pagingLoop" });
  });

  it("a listing that goes on past the page cap is an error (never a silent cut at the cap)", async () => {
    let n = 0;
    const pages = followPages(async () => ({ items: [{ id: `x${n}` }], next: { marker: `x${n++}` } }), { what: "image", where: "http://glance/v2/images", maxPages: 5 });
    await expect(pages).rejects.toMatchObject({ kind: "pagingLoop", message: expect.stringContaining("more than 5 pages") });
    expect(n).toBe(5);
  });

  it("every page is read when the markers move on", async () => {
    let n = 0;
    const items = await followPages(async () => ({ items: [{ id: `x${n}` }], next: n < 9 ? { marker: `x${n++}` } : undefined }), { what: "image", where: "w" });
    expect(items).toHaveLength(10);
  });
});

describe("typo suggestions are bounded", () => {
  it("Glance: an unknown name reads one page of 200 for suggestions, however many pages the cloud has", async () => {
    const { r, session } = zedSession([
      answer(zedToken),
      json(200, { images: [] }),
      json(200, { images: [image("cirros-0.6")], next: "/v2/images?marker=cirros-0.6&limit=200" }),
    ]);
    await expect(createGlanceClient(session).find("cirros")).rejects.toMatchObject({ kind: "nameNotFound", message: expect.stringContaining('"cirros-0.6"') });
    expect(r.requests.map((q) => q.url).slice(1)).toEqual(["http://127.0.0.1:9292/v2/images?name=cirros&limit=1000", "http://127.0.0.1:9292/v2/images?limit=200"]);
  });

  it("Nova's proxy: the name is filtered by Nova, and suggestions come from one bounded page", async () => {
    const { r, nova } = zedNova(
      [
        json(200, { images: [] }),
        json(200, { images: [{ id: "i1", name: "ubuntu-22" }], images_links: [{ rel: "next", href: "http://127.0.0.1:8774/v2.1/images/detail?marker=i1" }] }),
      ],
      { range: { min: "2.1", max: "2.35" } },
    );
    await expect(nova.images.find("ubuntu")).rejects.toMatchObject({ kind: "nameNotFound" });
    expect(r.requests.map((q) => q.url).slice(2)).toEqual(["http://127.0.0.1:8774/v2.1/images/detail?name=ubuntu", "http://127.0.0.1:8774/v2.1/images/detail?limit=200"]);
  });

  function image(id: string) {
    return { id, name: id, status: "active" };
  }
});

describe("redirects", () => {
  const moved = (status: number, location: string): Responder => ({ status, headers: { Location: location } });

  it.each([301, 302, 307, 308])("a %i on POST is followed with the same method and body", async (status) => {
    const { r, nova } = zedNova([moved(status, "http://127.0.0.1:8774/v2.1/moved/servers"), json(202, { server: { id: SERVER } })]);
    await nova.servers.create({ name: "a", imageRef: "i", flavorRef: "f", networks: "none" });
    expect(r.requests[3]).toMatchObject({ method: "POST", url: "http://127.0.0.1:8774/v2.1/moved/servers" });
    expect(r.requests[3]!.body).toEqual(r.requests[2]!.body);
    expect(r.requests[3]!.headers["x-auth-token"]).toBe(r.requests[2]!.headers["x-auth-token"]);
  });

  it("a 303 means: GET the answer there (no body)", async () => {
    const { r, nova } = zedNova([moved(303, "/v2.1/servers/x"), json(200, { server: { id: SERVER } })]);
    await nova.servers.update(SERVER, { name: "b" }).catch(() => undefined);
    expect(r.requests[3]).toMatchObject({ method: "GET", url: "http://127.0.0.1:8774/v2.1/servers/x", body: undefined });
  });

  it("a redirect to another server is refused clearly (the request carries a token) and not followed", async () => {
    const { r, nova } = zedNova([moved(307, "https://elsewhere.example/v2.1/servers")]);
    const error = await nova.servers.create({ name: "a", imageRef: "i", flavorRef: "f", networks: "none" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "redirectRefused", category: "config", message: expect.stringContaining("elsewhere.example") });
    expect(r.requests).toHaveLength(3);
  });

  it("a redirect to the same host on another port is followed (https://host:5000 -> https://host/identity, as keystoneauth does)", async () => {
    const { r, nova } = zedNova([moved(307, "http://127.0.0.1/compute/v2.1/servers"), json(202, { server: { id: SERVER } })]);
    await nova.servers.create({ name: "a", imageRef: "i", flavorRef: "f", networks: "none" });
    expect(r.requests[3]).toMatchObject({ method: "POST", url: "http://127.0.0.1/compute/v2.1/servers" });
  });

  it("Keystone's https://host:5000 moved under https://host/identity: the token request follows it", async () => {
    const r = replay(
      { status: 301, headers: { Location: "https://keystone.example/identity/v3/auth/tokens" } },
      { ...answer(zedToken) },
    );
    const settings = zedSettings({ OS_AUTH_URL: "https://keystone.example:5000/v3" });
    const session = new Session({ authUrl: settings.OS_AUTH_URL, credentials: credentialsFromSettings(settings), fetch: r.fetch });
    await session.auth();
    expect(r.requests.map((q) => `${q.method} ${q.url}`)).toEqual(["POST https://keystone.example:5000/v3/auth/tokens", "POST https://keystone.example/identity/v3/auth/tokens"]);
  });

  it("a redirect from https to http is refused even on the same host (the token would travel in clear)", async () => {
    const t = new Transport({ fetch: async () => new Response(null, { status: 302, headers: { Location: "http://cloud.example/v2.1/" } }) });
    await expect(t.send({ method: "GET", url: "https://cloud.example/v2.1/", service: "compute" })).rejects.toMatchObject({ kind: "redirectRefused", message: expect.stringContaining("from https") });
  });

  it("a redirect to another host that an endpoint override names (stated safe: it gets the token anyway) is followed", async () => {
    const r = replay(answer(zedToken), { status: 307, headers: { Location: "https://nova.example/v2.1/servers/detail" } }, json(200, { servers: [] }));
    const settings = zedSettings();
    const session = new Session({ authUrl: settings.OS_AUTH_URL, credentials: credentialsFromSettings(settings), fetch: r.fetch, endpointOverrides: { compute: "https://nova.example/v2.1" } });
    await session.request({ method: "GET", url: "https://glance.example/v2/images", service: "image" });
    expect(r.requests[2]!.url).toBe("https://nova.example/v2.1/servers/detail");
  });

  it("a redirect to another host that the catalog names (our interface) is followed", async () => {
    // The recorded catalog's public endpoints are on 127.0.0.1.
    const r = replay(answer(zedToken), { status: 307, headers: { Location: "http://127.0.0.1:9292/v2/images" } }, json(200, { images: [] }));
    const settings = zedSettings();
    const session = new Session({ authUrl: settings.OS_AUTH_URL, credentials: credentialsFromSettings(settings), fetch: r.fetch });
    await session.request({ method: "GET", url: "http://images.example/v2/images", service: "image" });
    expect(r.requests[2]!.url).toBe("http://127.0.0.1:9292/v2/images");
  });

  it("a redirect loop ends with an error after a few hops", async () => {
    const loop = moved(302, "http://127.0.0.1:8774/v2.1/servers/detail");
    const { r, nova } = zedNova(Array.from({ length: 10 }, () => loop));
    await expect(nova.servers.list()).rejects.toMatchObject({ kind: "redirectRefused", message: expect.stringContaining("more than 5 redirects") });
    expect(r.requests).toHaveLength(2 + 6);
  });

  it("fetch is asked not to follow redirects itself", async () => {
    let seen: RequestInit | undefined;
    const t = new Transport({ fetch: async (_url, init) => ((seen = init), new Response("{}", { status: 200 })) });
    await t.send({ method: "GET", url: "http://x/", service: "compute" });
    expect(seen?.redirect).toBe("manual");
  });
});

describe("the book's metadata-item dialect", () => {
  const BOOK_SETTINGS = { OS_AUTH_URL: "http://localhost:5000/v2.0", OS_USERNAME: "joe", OS_PASSWORD: "shhh", OS_PROJECT_NAME: "" };

  it("a metadata item answered as {\"metadata\": {k: v}} is read", async () => {
    const { nova } = zedNova([json(200, { metadata: { owner: "joe" } })]);
    expect(await nova.servers.metadataItem(SERVER, "owner")).toBe("joe");
  });

  it("an image's metadata item in the book's dialect is read through Nova's proxy", async () => {
    const { nova } = zedNova([json(200, { metadata: { owner: "joe" } })], { range: { min: "2.1", max: "2.35" } });
    expect(await nova.images.metadataItem("7", "owner")).toBe("joe");
  });

  it("on the book's v1.1 API a metadata item is sent as {\"metadata\": {k: v}}, as the book does", async () => {
    const { r, cloud } = zedCloud([answer(bookToken), json(200, { metadata: { owner: "joe" } })], { settings: BOOK_SETTINGS });
    expect(await cloud.nova.servers.setMetadataItem("1", "owner", "joe")).toEqual({ owner: "joe" });
    expect(r.requests[1]).toMatchObject({ method: "PUT", url: "http://10.0.2.15:8774/v1.1/openstack/servers/1/metadata/owner", body: { metadata: { owner: "joe" } } });
  });

  it("on today's API it is sent as Nova's {\"meta\": {k: v}}", async () => {
    const { r, nova } = zedNova([json(200, { meta: { owner: "joe" } })]);
    await nova.servers.setMetadataItem(SERVER, "owner", "joe");
    expect(r.requests[2]!.body).toEqual({ meta: { owner: "joe" } });
  });
});

describe("categories", () => {
  it("Glance's 403 for deleting a protected image is config (the image's setting), not auth", async () => {
    const { session } = zedSession([
      answer(zedToken),
      json(403, { message: "403 Forbidden<br /><br />Image be865a13 is protected and cannot be deleted.", code: "403 Forbidden", title: "Forbidden" }),
    ]);
    await expect(createGlanceClient(session).delete("be865a13")).rejects.toMatchObject({ status: 403, category: "config" });
  });

  it("other 403s stay auth", () => {
    expect(categorize(403, "forbidden", "Policy doesn't allow os_compute_api:servers:create to be performed.")).toBe("auth");
  });
});

describe("request ids", () => {
  it("every request of one cloud (Keystone, discovery, Nova) carries the same X-OpenStack-Request-Id: req-<uuid>", async () => {
    const { r, cloud } = zedCloud([answer(zedToken), answer(versionDoc), answer(emptyList)]);
    await cloud.listServers();
    const ids = new Set(r.requests.map((q) => q.headers["x-openstack-request-id"]));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(GLOBAL_REQUEST_ID);
    expect(cloud.requestId).toBe([...ids][0]);
  });

  it("two clouds (two ticks) send different ids", () => {
    expect(zedCloud([]).cloud.requestId).not.toBe(zedCloud([]).cloud.requestId);
  });

  it("the cloud's own ids of the answers are kept, and an error carries its own", async () => {
    const { cloud } = zedCloud([
      answer(zedToken),
      json(200, versionDoc.response.body, { "x-openstack-request-id": "req-1111" }),
      json(404, { itemNotFound: { code: 404, message: "nope" } }, { "x-compute-request-id": "req-2222" }),
    ]);
    await expect(cloud.nova.servers.get(SERVER)).rejects.toMatchObject({ requestId: "req-2222" });
    expect(cloud.session.transport.returnedRequestIds().slice(-2)).toEqual(["req-1111", "req-2222"]);
  });

  it("a request id that is not req-<uuid> is refused (the services would drop it silently)", () => {
    expect(() => new Transport({ requestId: "tick-42" })).toThrow(/req-<uuid>/);
  });

  it("the Nova client of a session shares its id", async () => {
    const { r, session } = zedSession([answer(zedToken), answer(versionDoc), answer(emptyList)]);
    await createNovaClient(session).servers.list();
    expect(r.requests.every((q) => q.headers["x-openstack-request-id"] === session.transport.requestId)).toBe(true);
  });
});

describe("a repeated query key from page 2 on", () => {
  it("Nova's next link `status=ACTIVE&status=ERROR` is followed with both values, in order", async () => {
    const first = json(200, { servers: [{ id: "a", name: "a" }], servers_links: [{ rel: "next", href: "http://nova.internal:8774/v2.1/servers?status=ACTIVE&status=ERROR&limit=1&marker=a" }] });
    const { r, nova } = zedNova([first, json(200, { servers: [] })]);
    await nova.servers.list(undefined, { detail: false, pageSize: 1 });
    const second = new URL(r.requests[3]!.url);
    expect(second.searchParams.getAll("status")).toEqual(["ACTIVE", "ERROR"]);
    expect(second.searchParams.get("marker")).toBe("a");
  });

  it("Glance's next link keeps a repeated key (`tag=a&tag=b`) too", async () => {
    const { r, session } = zedSession([
      answer(zedToken),
      json(200, { images: [{ id: "x", name: "x", status: "active" }], next: "/v2/images?tag=a&tag=b&marker=x&limit=1" }),
      json(200, { images: [] }),
    ]);
    await createGlanceClient(session).list({}, { pageSize: 1 });
    expect(new URL(r.requests[2]!.url).searchParams.getAll("tag")).toEqual(["a", "b"]);
  });
});
