// The book's era end to end: Keystone v2.0 with the book's body, Compute v1.1 with the project in the URL, numeric ids, URL refs.
import { describe, expect, it } from "vitest";
import bookToken from "../fixtures/book/keystone-v2.0-token-book.json";
import bookCreate from "../fixtures/book/nova-v1.1-create-server.json";
import bookFaults from "../fixtures/book/nova-v1.1-faults.json";
import bookFlavors from "../fixtures/book/nova-v1.1-flavors.json";
import bookImages from "../fixtures/book/nova-v1.1-images.json";
import bookServer from "../fixtures/book/nova-v1.1-server-detail.json";
import { answer, json, replay, type Responder } from "./support/replay.ts";
import { zedCloud } from "./support/zed.ts";

const NOVA = "http://10.0.2.15:8774/v1.1/openstack";
const BOOK_SETTINGS = { OS_AUTH_URL: "http://localhost:5000/v2.0", OS_USERNAME: "joe", OS_PASSWORD: "shhh", OS_PROJECT_NAME: "" };

function bookCloud(...script: Responder[]) {
  return zedCloud([answer(bookToken), ...script], { settings: BOOK_SETTINGS });
}

describe("book era", () => {
  it("authenticates against v2.0 with passwordCredentials and finds Nova v1.1 in the name-keyed catalog", async () => {
    const { r, cloud } = bookCloud(json(200, { servers: [] }));
    await cloud.listServers();
    expect(r.requests[0]).toMatchObject({ method: "POST", url: "http://localhost:5000/v2.0/tokens", body: { auth: { passwordCredentials: { username: "joe", password: "shhh" } } } });
    expect(r.requests[1]).toMatchObject({ method: "GET", url: `${NOVA}/servers/detail`, headers: { "x-auth-token": "999888777666" } });
  });

  it("sends no microversion headers and makes no version probe", async () => {
    const { r, cloud } = bookCloud(json(200, { servers: [] }));
    await cloud.listServers();
    expect(r.requests).toHaveLength(2);
    expect(r.requests[1]!.headers["x-openstack-nova-api-version"]).toBeUndefined();
    expect(r.requests[1]!.headers["openstack-api-version"]).toBeUndefined();
  });

  it("numeric ids become strings, the image's too (server detail as printed in the book)", async () => {
    const { r, cloud } = bookCloud(json(200, { servers: [bookServer.response.body.server] }));
    const [server] = await cloud.listServers();
    expect(server).toEqual({ id: "1", name: "tornado001", status: "ACTIVE", taskState: null, created: "2011-12-04T21:18:55Z", metadata: { "Server Name": "Tornado" }, imageId: "1", flavorId: "1" });
    expect(r.remaining()).toBe(0);
  });

  it("get server and its addresses, through the Nova client", async () => {
    const { r, cloud } = bookCloud(answer(bookServer));
    const server = await cloud.nova.servers.get("1");
    expect(r.requests[1]!.url).toBe(`${NOVA}/servers/1`);
    expect(server.addresses).toEqual({ public: [{ version: 4, addr: "192.168.100.2" }], private: [{ version: 4, addr: "192.168.200.2" }] });
  });

  it("images and flavors by name come from Nova (the catalog's Glance is v1, which this client does not speak)", async () => {
    const { r, cloud } = bookCloud(answer(bookImages), answer(bookFlavors));
    expect(await cloud.resolveImage("ubuntu-11.04-server")).toEqual({ id: "3", name: "ubuntu-11.04-server" });
    expect(await cloud.resolveFlavor("m1.tiny")).toEqual({ id: "1", name: "m1.tiny", vcpus: 0, ramMB: 0 });
    // Nova filters images by name (v1.1 did too); the canned answer lists all of them, as a cloud ignoring the filter would.
    expect(r.requests.slice(1).map((q) => q.url)).toEqual([`${NOVA}/images/detail?name=ubuntu-11.04-server`, `${NOVA}/flavors/detail`]);
  });

  it("boots with image and flavor refs as URLs, the way the book wrote them, and no networks key", async () => {
    const { r, cloud } = bookCloud(answer(bookCreate));
    const result = await cloud.boot({ name: "tornado001", imageId: "1", flavorId: "1", metadata: { "Server Name": "Tornado" }, networks: "auto", count: 1 });
    expect(r.requests[1]).toMatchObject({ method: "POST", url: `${NOVA}/servers` });
    expect(r.requests[1]!.body).toEqual({ server: { name: "tornado001", imageRef: `${NOVA}/images/1`, flavorRef: `${NOVA}/flavors/1`, metadata: { "Server Name": "Tornado" } } });
    expect(result).toEqual({ serverIds: ["1"] });
  });

  it("the book's create request, personality included, is reproduced exactly by the Nova client", async () => {
    const { r, cloud } = bookCloud(answer(bookCreate));
    const { server } = bookCreate.request.body;
    const result = await cloud.nova.servers.create({ name: server.name, imageRef: server.imageRef, flavorRef: server.flavorRef, metadata: server.metadata, personality: server.personality });
    expect(r.requests[1]!.body).toEqual(bookCreate.request.body);
    expect(result).toEqual({ id: "1", adminPass: "MrhcNkNqAeVnnUE7", reservationId: undefined });
  });

  it("createImage names the image in the Location header", async () => {
    const { cloud } = bookCloud({ status: 202, headers: { Location: `${NOVA}/images/42` } });
    expect(await cloud.createImage("1", "nightly", { "novascale:group": "web" })).toBe("42");
  });

  it("listImages goes through Nova's proxy and filters on the images' metadata", async () => {
    const ours = { id: 7, name: "web-nightly", status: "ACTIVE", created: "2011-12-05T02:30:00Z", metadata: { "novascale:made-by": "novascale", "novascale:group": "web" } };
    const theirs = { id: 8, name: "other", status: "SAVING", created: "2011-12-05T02:30:00Z", metadata: { "novascale:group": "web" } };
    const { r, cloud } = bookCloud(json(200, { images: [ours, theirs] }));
    const images = await cloud.listImages({ "novascale:made-by": "novascale", "novascale:group": "web" });
    expect(images).toEqual([{ id: "7", name: "web-nightly", status: "active", created: "2011-12-05T02:30:00Z", properties: ours.metadata }]);
    expect(r.requests[1]!.url).toBe(`${NOVA}/images/detail`);
  });

  it("a delete of a server that is already gone (book's 404 itemNotFound) counts as done", async () => {
    const fault = bookFaults["delete of a missing server or image"];
    const { cloud } = bookCloud(json(fault.status, fault.body));
    await expect(cloud.deleteServer("99")).resolves.toBeUndefined();
  });

  it("absolute limits of a book-era cloud: 5 metadata items per server and per image", async () => {
    const { maxServerMeta, maxImageMeta, maxTotalRAMSize } = bookFaults["book limits (suggested defaults)"];
    const { cloud } = bookCloud(json(200, { limits: { rate: [], absolute: { maxServerMeta, maxImageMeta, maxTotalRAMSize, maxTotalInstances: 10, maxTotalCores: 20 } } }));
    expect(await cloud.absoluteLimits()).toMatchObject({ maxServerMeta: 5, maxImageMeta: 5, maxTotalRAMSize: 51200, totalInstancesUsed: 0 });
  });

  it("a replay with nothing left answers 599 (guards the fake transport itself)", async () => {
    const r = replay();
    expect((await r.fetch("http://x/", { method: "GET" })).status).toBe(599);
  });
});
