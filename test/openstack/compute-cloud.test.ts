// The ComputeCloud facade on the recorded Zed cloud: one session per tick, core types out, 404s on deletes as done.
import { describe, expect, it } from "vitest";
import { type CachedToken, createTokenCache, type TokenCache } from "../../src/openstack/session.ts";
import zedToken from "../fixtures/real-zed/keystone-token-demo.json";
import createImage from "../fixtures/real-zed/nova-create-image.json";
import createMulti from "../fixtures/real-zed/nova-create-multi.json";
import flavorsDetail from "../fixtures/real-zed/nova-flavors-detail.json";
import limits from "../fixtures/real-zed/nova-limits.json";
import listByReservation from "../fixtures/real-zed/nova-list-by-reservation.json";
import serversDetail from "../fixtures/real-zed/nova-servers-detail.json";
import deleteSnapshot from "../fixtures/real-zed/glance-delete-snapshot.json";
import glanceImages from "../fixtures/real-zed/glance-images.json";
import snapshot from "../fixtures/real-zed/glance-snapshot-image.json";
import versionDoc from "../fixtures/real-zed/nova-version-v2.1.json";
import deleteServer from "../fixtures/real-zed/nova-delete.json";
import { answer, json, TEST_PASSWORD } from "./support/replay.ts";
import { preamble, zedCloud } from "./support/zed.ts";

const NOVA = "http://127.0.0.1:8774/v2.1";
const GLANCE = "http://127.0.0.1:9292/v2";
const notFound = json(404, { itemNotFound: { code: 404, message: "could not be found" } });

describe("servers", () => {
  it("listServers: every server as the planner sees it (upper-case status, task state, metadata, the image it was booted from, flavor size)", async () => {
    const { cloud } = zedCloud([...preamble(), answer(listByReservation)]);
    const servers = await cloud.listServers();
    expect(servers[0]).toEqual({
      id: "ac9f1e35-a107-437b-9a16-70e11689cb3b",
      name: "smoke-resv-2",
      status: "BUILD",
      taskState: "scheduling",
      created: "2026-11-26T20:18:17Z",
      metadata: { "autoscale-group": "web" },
      imageId: "ac2cb8ad-cbfb-4989-8915-94ce4c3565b7",
      flavor: { vcpus: 1, ramMB: 512 },
      flavorName: "m1.tiny",
    });
  });

  it("listServers lower-case status from an odd cloud is upper-cased", async () => {
    const { cloud } = zedCloud([...preamble(), json(200, { servers: [{ id: "x", name: "x", status: "active", created: "2026-11-26T20:00:00Z", metadata: {} }] })]);
    expect((await cloud.listServers())[0]!.status).toBe("ACTIVE");
  });

  it("listServers keeps an ERROR server's fault as code, message and created", async () => {
    const fault = { code: 500, message: "No valid host was found. ", created: "2026-11-26T20:00:05Z", details: "Traceback ..." };
    const { cloud } = zedCloud([...preamble(), json(200, { servers: [{ id: "e", name: "e", status: "ERROR", created: "2026-11-26T20:00:00Z", metadata: {}, fault }] })]);
    expect((await cloud.listServers())[0]!.fault).toEqual({ code: 500, message: "No valid host was found.", created: "2026-11-26T20:00:05Z" });
  });

  it("listServers masks the cloud's secrets in a fault message", async () => {
    const fault = { code: 500, message: `boot failed: auth with ${TEST_PASSWORD} refused` };
    const { cloud } = zedCloud([...preamble(), json(200, { servers: [{ id: "e", name: "e", status: "ERROR", created: "2026-11-26T20:00:00Z", metadata: {}, fault }] })]);
    expect((await cloud.listServers())[0]!.fault?.message).not.toContain(TEST_PASSWORD);
  });

  it("listServers clips a long fault message like other cloud text", async () => {
    const fault = { code: 500, message: "y".repeat(2000) };
    const { cloud } = zedCloud([...preamble(), json(200, { servers: [{ id: "e", name: "e", status: "ERROR", created: "2026-11-26T20:00:00Z", metadata: {}, fault }] })]);
    expect((await cloud.listServers())[0]!.fault?.message).toBe(`${"y".repeat(500)}…`);
  });

  it("listServers drops a malformed fault rather than failing the listing", async () => {
    const { cloud } = zedCloud([...preamble(), json(200, { servers: [{ id: "e", name: "e", status: "ERROR", created: "2026-11-26T20:00:00Z", metadata: {}, fault: "oops" }] })]);
    expect((await cloud.listServers())[0]).not.toHaveProperty("fault");
  });

  it("partial records (2.69+, a cell is down) make the listing fail rather than undercount the group", async () => {
    const { cloud } = zedCloud([...preamble(), json(200, { servers: [{ id: "y", status: "UNKNOWN", links: [] }] })]);
    await expect(cloud.listServers()).rejects.toMatchObject({ kind: "incompleteListing", category: "transient" });
  });

  it("boot: one request for count servers (min_count = max_count), ids as plain ids", async () => {
    const { r, cloud } = zedCloud([...preamble(), answer(createMulti)]);
    const result = await cloud.boot({ name: "smoke-web", imageId: "ac2cb8ad-cbfb-4989-8915-94ce4c3565b7", flavorId: "1", metadata: { "autoscale-group": "web" }, networks: "none", count: 3 });
    expect(r.requests[2]!.body).toEqual(createMulti.request.body);
    expect(result).toEqual({ serverIds: ["20916dbd-36f9-449a-9cf3-e66e2adbbac0"] });
  });

  it("boot of one server sends no min/max count; user data, key, groups and zone in Nova's names", async () => {
    const { r, cloud } = zedCloud([...preamble(), answer(createMulti)]);
    await cloud.boot({ name: "one", imageId: "i", flavorId: "1", metadata: {}, networks: [{ uuid: "n1" }], count: 1, keyName: "k", userData: "hi", securityGroups: ["web"], availabilityZone: "az1" });
    expect(r.requests[2]!.body).toEqual({ server: { name: "one", imageRef: "i", flavorRef: "1", networks: [{ uuid: "n1" }], metadata: {}, user_data: "aGk=", key_name: "k", security_groups: [{ name: "web" }], availability_zone: "az1" } });
  });

  it("deleteServer: 204 is done, and so is 404 (already gone)", async () => {
    const { r, cloud } = zedCloud([...preamble(), answer(deleteServer), notFound]);
    await cloud.deleteServer("fc4700af-e848-47d9-b853-a569a4b4c4d0");
    await expect(cloud.deleteServer("fc4700af-e848-47d9-b853-a569a4b4c4d0")).resolves.toBeUndefined();
    expect(r.requests[2]).toMatchObject({ method: "DELETE", url: deleteServer.request.url });
  });

  it("deleteServer: a 409 that persists is a transient error after the retries", async () => {
    const conflict = json(409, { conflictingRequest: { code: 409, message: "Cannot 'delete' instance while it is in task_state image_snapshot" } });
    const { r, cloud } = zedCloud([...preamble(), conflict, conflict, conflict, conflict]);
    await expect(cloud.deleteServer("x")).rejects.toMatchObject({ status: 409, category: "transient" });
    expect(r.requests).toHaveLength(6);
  });

  it("absoluteLimits: -1 and missing maxima are null", async () => {
    const body = structuredClone(limits.response.body);
    body.limits.absolute.maxTotalCores = -1;
    const { cloud } = zedCloud([...preamble(), json(200, body)]);
    expect(await cloud.absoluteLimits()).toEqual({
      maxTotalInstances: 9, totalInstancesUsed: 9, maxTotalCores: null, totalCoresUsed: 9,
      maxTotalRAMSize: 51200, totalRAMUsed: 4608, maxServerMeta: 128, maxImageMeta: null,
    });
  });
});

describe("images and flavors", () => {
  it("resolveImage by name asks Glance v2", async () => {
    const { r, cloud } = zedCloud([answer(zedToken), answer(glanceImages)]);
    expect(await cloud.resolveImage("cirros-fake")).toEqual({ id: "ac2cb8ad-cbfb-4989-8915-94ce4c3565b7", name: "cirros-fake" });
    expect(r.requests[1]!.url).toBe(`${GLANCE}/images?name=cirros-fake&limit=1000`);
  });

  it("resolveImage by id checks that the image is active", async () => {
    const saving = { ...snapshot.response.body, status: "saving" };
    const { cloud } = zedCloud([answer(zedToken), json(200, saving)]);
    await expect(cloud.resolveImage({ id: snapshot.response.body.id })).rejects.toMatchObject({ category: "config", kind: "notUsable" });
  });

  it("resolveFlavor by name gives vcpus and RAM for the quota check", async () => {
    const { cloud } = zedCloud([...preamble(), answer(flavorsDetail)]);
    expect(await cloud.resolveFlavor("m1.medium")).toEqual({ id: "3", name: "m1.medium", vcpus: 2, ramMB: 4096 });
  });

  it("resolveFlavor by id", async () => {
    const { r, cloud } = zedCloud([...preamble(), json(200, { flavor: flavorsDetail.response.body.flavors[0] })]);
    expect(await cloud.resolveFlavor({ id: "1" })).toEqual({ id: "1", name: "m1.tiny", vcpus: 1, ramMB: 512 });
    expect(r.requests[2]!.url).toBe(`${NOVA}/flavors/1`);
  });

  it("a resolved name is remembered by the cloud object (no second request)", async () => {
    const { r, cloud } = zedCloud([...preamble(), answer(flavorsDetail)]);
    await cloud.resolveFlavor("m1.tiny");
    await cloud.resolveFlavor("m1.tiny");
    expect(r.requests).toHaveLength(3);
  });

  it("createImage returns the new image's id", async () => {
    const { r, cloud } = zedCloud([...preamble(), answer(createImage)]);
    expect(await cloud.createImage("20916dbd-36f9-449a-9cf3-e66e2adbbac0", "smoke-snap", { "autoscale-group": "web" })).toBe("be865a13-1171-4d93-83e2-fbe215b3789b");
    expect(r.requests[2]!.body).toEqual(createImage.request.body);
  });

  it("listImages filters in Glance and again here (a cloud that ignores the filter cannot hand us others' images)", async () => {
    const ours = { ...snapshot.response.body, "novascale:made-by": "novascale", "novascale:group": "web" };
    const { r, cloud } = zedCloud([answer(zedToken), json(200, { images: [ours, glanceImages.response.body.images[0]] })]);
    const images = await cloud.listImages({ "novascale:made-by": "novascale", "novascale:group": "web" });
    expect(r.requests[1]!.url).toBe(`${GLANCE}/images?novascale%3Amade-by=novascale&novascale%3Agroup=web&limit=1000`);
    expect(images.map((i) => i.id)).toEqual([snapshot.response.body.id]);
    expect(images[0]).toMatchObject({ name: "smoke-snap", status: "active", created: "2026-11-26T20:18:21Z", properties: { "novascale:group": "web", image_type: "snapshot" } });
  });

  it("getImage: the image, or null when Glance says 404", async () => {
    const { cloud } = zedCloud([answer(zedToken), answer(snapshot), notFound]);
    expect(await cloud.getImage(snapshot.response.body.id)).toMatchObject({ id: snapshot.response.body.id, status: "active" });
    expect(await cloud.getImage("gone")).toBeNull();
  });

  it("deleteImage: Glance's 204, and 404 as done", async () => {
    const { r, cloud } = zedCloud([answer(zedToken), answer(deleteSnapshot), notFound]);
    await cloud.deleteImage(snapshot.response.body.id);
    await cloud.deleteImage(snapshot.response.body.id);
    expect(r.requests[1]).toMatchObject({ method: "DELETE", url: deleteSnapshot.request.url });
  });
});

describe("one session per tick", () => {
  it("a tick's calls share one token and one version discovery; stats() counts every request", async () => {
    const { r, cloud } = zedCloud([...preamble(), answer(serversDetail), answer(limits), answer(flavorsDetail), answer(glanceImages), answer(createMulti)]);
    await cloud.listServers();
    await cloud.absoluteLimits();
    const flavor = await cloud.resolveFlavor("m1.tiny");
    const image = await cloud.resolveImage("cirros-fake");
    await cloud.boot({ name: "web", imageId: image.id, flavorId: flavor.id, metadata: {}, networks: "none", count: 2 });
    expect(r.requests.filter((q) => q.url.endsWith("/auth/tokens"))).toHaveLength(1);
    expect(r.requests.filter((q) => q.url === versionDoc.request.url)).toHaveLength(1);
    expect(cloud.stats()).toEqual({ requests: 7, retries: 0, byService: { identity: 1, compute: 5, image: 1 } });
  });

  it("a shared token cache: the next tick's cloud skips Keystone and the version document (one listing call)", async () => {
    const tokenCache = createTokenCache();
    const first = zedCloud([...preamble(), answer(serversDetail)], { tokenCache });
    await first.cloud.listServers();
    const second = zedCloud([answer(serversDetail)], { tokenCache });
    await second.cloud.listServers();
    expect(second.r.requests.map((q) => q.url)).toEqual([serversDetail.request.url]);
  });

  it("a new token discovers the compute version again (the cloud may have been upgraded meanwhile)", async () => {
    const tokens = new Map<string, CachedToken>();
    const tokenCache: TokenCache = { get: (k) => tokens.get(k), set: (k, t) => void tokens.set(k, t), delete: (k) => void tokens.delete(k) };
    const first = zedCloud([...preamble(), answer(serversDetail)], { tokenCache });
    await first.cloud.listServers();
    tokens.clear(); // the token expired: the next tick authenticates again
    const second = zedCloud([...preamble(), answer(serversDetail)], { tokenCache });
    await second.cloud.listServers();
    expect(second.r.requests.map((q) => q.url)).toContain(versionDoc.request.url);
  });

  it("endpoint overrides (OS_ENDPOINT_OVERRIDES) replace the catalog's URL", async () => {
    const { r, cloud } = zedCloud([answer(zedToken), answer(versionDoc), json(200, { servers: [] })], { settings: { OS_ENDPOINT_OVERRIDES: '{"compute": "https://nova.example.com/v2.1/"}' } });
    await cloud.listServers();
    expect(r.requests.slice(1).map((q) => q.url)).toEqual(["https://nova.example.com/v2.1/", "https://nova.example.com/v2.1/servers/detail"]);
  });

  it("an option override wins over OS_ENDPOINT_OVERRIDES", async () => {
    const { r, cloud } = zedCloud([answer(zedToken), json(200, { images: [] })], {
      settings: { OS_ENDPOINT_OVERRIDES: '{"image": "https://glance.example.com"}' },
      endpointOverrides: { image: "https://glance2.example.com/v2" },
    });
    await cloud.listImages({});
    expect(r.requests[1]!.url).toBe("https://glance2.example.com/v2/images?limit=1000");
  });

  it("a malformed OS_ENDPOINT_OVERRIDES is a config error at construction", () => {
    expect(() => zedCloud([], { settings: { OS_ENDPOINT_OVERRIDES: "{compute: nova}" } })).toThrow(expect.objectContaining({ category: "config" }));
  });

  it("a region the catalog does not have: an error naming what was looked for and what there is", async () => {
    const { cloud } = zedCloud([answer(zedToken)], { settings: { OS_REGION_NAME: "RegionTwo" } });
    await expect(cloud.listServers()).rejects.toMatchObject({
      category: "config",
      kind: "endpointNotFound",
      detail: expect.stringMatching(/no compute endpoint \(interface public, region RegionTwo\).*compute "nova" \(public RegionOne, internal RegionOne, admin RegionOne\)/),
    });
  });

  it("OS_INTERFACE=internal picks the internal endpoint", async () => {
    const token = structuredClone(zedToken);
    const compute = token.response.body.token.catalog.find((s) => s.type === "compute")!;
    compute.endpoints.find((e) => e.interface === "internal")!.url = "http://nova-internal:8774/v2.1";
    const { r, cloud } = zedCloud([answer(token), answer(versionDoc), json(200, { servers: [] })], { settings: { OS_INTERFACE: "internal" } });
    await cloud.listServers();
    expect(r.requests[2]!.url).toBe("http://nova-internal:8774/v2.1/servers/detail");
  });
});

describe("image metadata, whichever service keeps it", () => {
  it("on today's cloud it is Glance's properties (a JSON patch)", async () => {
    const { r, cloud } = zedCloud([answer(zedToken), json(200, { ...snapshot.response.body, role: "db" })]);
    const api = await cloud.imageMetadata();
    expect(await api.mergeMetadata(snapshot.response.body.id, { role: "db" })).toMatchObject({ role: "db" });
    expect(r.requests[1]).toMatchObject({ method: "PATCH", url: `${GLANCE}/images/${snapshot.response.body.id}`, body: [{ op: "add", path: "/role", value: "db" }] });
  });

  it("on a cloud without an image service it is Nova's proxy", async () => {
    const token = structuredClone(zedToken);
    token.response.body.token.catalog = token.response.body.token.catalog.filter((s) => s.type !== "image");
    const { r, cloud } = zedCloud([answer(token), answer(versionDoc), json(200, { metadata: { role: "db" } })]);
    const api = await cloud.imageMetadata();
    expect(await api.mergeMetadata("img-1", { role: "db" })).toEqual({ role: "db" });
    expect(r.requests[2]).toMatchObject({ method: "POST", url: `${NOVA}/images/img-1/metadata`, body: { metadata: { role: "db" } }, headers: { "x-openstack-nova-api-version": "2.35" } });
  });
});
