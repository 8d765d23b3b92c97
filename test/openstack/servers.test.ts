// Nova servers, one canned exchange per call: method, URL, token, microversion and exact body, answered from recordings.
import { describe, expect, it } from "vitest";
import { OpenStackError } from "../../src/openstack/errors.ts";
import badImage from "../fixtures/real-zed/nova-create-bad-image.json";
import createImage from "../fixtures/real-zed/nova-create-image.json";
import createLegacy from "../fixtures/real-zed/nova-create-legacy-2.1-no-networks.json";
import createMultiResv from "../fixtures/real-zed/nova-create-multi-reservation-id.json";
import createMulti from "../fixtures/real-zed/nova-create-multi.json";
import createNoNetworks from "../fixtures/real-zed/nova-create-no-networks-2.latest.json";
import overQuota from "../fixtures/real-zed/nova-create-over-quota.json";
import createSingle from "../fixtures/real-zed/nova-create-single.json";
import deleteServer from "../fixtures/real-zed/nova-delete.json";
import missingServer from "../fixtures/real-zed/nova-get-missing-server.json";
import listByReservation from "../fixtures/real-zed/nova-list-by-reservation.json";
import listByTags from "../fixtures/real-zed/nova-list-by-tags.json";
import metadataDelete from "../fixtures/real-zed/nova-metadata-delete-key.json";
import metadataGetDeleted from "../fixtures/real-zed/nova-metadata-get-deleted-key.json";
import metadataGetKey from "../fixtures/real-zed/nova-metadata-get-key.json";
import metadataGet from "../fixtures/real-zed/nova-metadata-get.json";
import metadataMerge from "../fixtures/real-zed/nova-metadata-post-merge.json";
import metadataPutKey from "../fixtures/real-zed/nova-metadata-put-key.json";
import metadataReplace from "../fixtures/real-zed/nova-metadata-put-replace.json";
import reboot from "../fixtures/real-zed/nova-reboot.json";
import rename from "../fixtures/real-zed/nova-rename.json";
import serverShow from "../fixtures/real-zed/nova-server-show.json";
import serversDetail from "../fixtures/real-zed/nova-servers-detail.json";
import tagAdd from "../fixtures/real-zed/nova-tag-add.json";
import tagsReplace from "../fixtures/real-zed/nova-tags-replace.json";
import { answer, type Exchange, json, type Recorded, TEST_TOKEN } from "./support/replay.ts";
import { zedNova } from "./support/zed.ts";

const NOVA = "http://127.0.0.1:8774/v2.1";
const SERVER = "20916dbd-36f9-449a-9cf3-e66e2adbbac0";

/** The request as the recording made it: method, URL, body; and our token and negotiated microversion. */
function expectRecorded(actual: Recorded | undefined, exchange: Exchange, microversion = "2.93") {
  expect(actual).toBeDefined();
  expect(actual!.method).toBe(exchange.request.method);
  expect(actual!.url).toBe(exchange.request.url);
  expect(actual!.body).toEqual(exchange.request.body ?? undefined);
  expect(actual!.headers["x-auth-token"]).toBe(TEST_TOKEN);
  expect(actual!.headers["x-openstack-nova-api-version"]).toBe(microversion);
  expect(actual!.headers["openstack-api-version"]).toBe(`compute ${microversion}`);
}

async function failure(p: Promise<unknown>): Promise<OpenStackError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof OpenStackError)) throw new Error(`expected an OpenStackError, got ${String(e)}`);
  return e;
}

describe("boot (POST /servers)", () => {
  it("a single server: the recorded body, and the new id", async () => {
    const { r, nova } = zedNova([answer(createSingle)]);
    const result = await nova.servers.create({ name: "smoke-single-2", imageRef: "ac2cb8ad-cbfb-4989-8915-94ce4c3565b7", flavorRef: "1", networks: "none", metadata: { "autoscale-group": "web" } });
    expectRecorded(r.requests[2], createSingle);
    expect(result).toEqual({ id: "a8324a94-dd76-4ba4-a119-904e6aa39b13", adminPass: "LgYwH6hchBuo", reservationId: undefined });
  });

  it("several at once with min_count = max_count: Nova names only the first", async () => {
    const { r, nova } = zedNova([answer(createMulti)]);
    const result = await nova.servers.create({ name: "smoke-web", imageRef: "ac2cb8ad-cbfb-4989-8915-94ce4c3565b7", flavorRef: "1", networks: "none", metadata: { "autoscale-group": "web" }, minCount: 3, maxCount: 3 });
    expectRecorded(r.requests[2], createMulti);
    expect(result.id).toBe(SERVER);
  });

  it("return_reservation_id: the answer is only the reservation id", async () => {
    const { r, nova } = zedNova([answer(createMultiResv)]);
    const result = await nova.servers.create({
      name: "smoke-resv", imageRef: "ac2cb8ad-cbfb-4989-8915-94ce4c3565b7", flavorRef: "1", networks: "none",
      metadata: { "autoscale-group": "web" }, minCount: 2, maxCount: 2, returnReservationId: true,
    });
    expectRecorded(r.requests[2], createMultiResv);
    expect(result).toEqual({ id: undefined, adminPass: undefined, reservationId: "r-hjbk6uuh" });
  });

  it("every option of the book and of today, in Nova's field names; user_data and personality base64-encoded (UTF-8)", async () => {
    // 2.56: the last microversion with personality, and tags at boot (2.52) already there.
    const { r, nova } = zedNova([answer(createSingle)], { range: { min: "2.1", max: "2.56" } });
    await nova.servers.create({
      name: "full", imageRef: "img", flavorRef: "2", metadata: { a: "b" },
      personality: [{ path: "/etc/motd", contents: "héllo" }], userData: "#!/bin/sh\necho ü",
      networks: [{ uuid: "net-1", fixedIp: "10.0.0.5" }, { port: "port-1" }], keyName: "ops", securityGroups: ["default", "web"],
      availabilityZone: "nova", minCount: 1, maxCount: 2, tags: ["web", "canary"],
    });
    expect(r.requests[2]!.body).toEqual({
      server: {
        name: "full", imageRef: "img", flavorRef: "2",
        networks: [{ uuid: "net-1", fixed_ip: "10.0.0.5" }, { port: "port-1" }],
        metadata: { a: "b" },
        personality: [{ path: "/etc/motd", contents: "aMOpbGxv" }],
        user_data: "IyEvYmluL3NoCmVjaG8gw7w=",
        key_name: "ops", security_groups: [{ name: "default" }, { name: "web" }], availability_zone: "nova",
        min_count: 1, max_count: 2, tags: ["web", "canary"],
      },
    });
  });

  it("personality is refused from 2.57 without a request (Nova removed it)", async () => {
    const { r, nova } = zedNova([answer(createSingle)]);
    const e = await failure(nova.servers.create({ name: "p", imageRef: "i", flavorRef: "1", networks: "none", personality: [{ path: "/etc/motd", contents: "hi" }] }));
    expect(e).toMatchObject({ category: "config", kind: "unsupportedByCloud" });
    expect(r.requests).toHaveLength(2);
  });

  it("from 2.37 a boot without networks is refused before any request (Nova would say 400)", async () => {
    const { r, nova } = zedNova([answer(createNoNetworks)]);
    const e = await failure(nova.servers.create({ name: "bad", imageRef: "ac2cb8ad-cbfb-4989-8915-94ce4c3565b7", flavorRef: "1" }));
    expect(e).toMatchObject({ category: "config", kind: "networksRequired" });
    expect(r.requests).toHaveLength(2);
  });

  it("below 2.37 'none' is refused before any request: Nova would give the server a port", async () => {
    const { r, nova } = zedNova([answer(createLegacy)], { range: { min: "2.1", max: "2.36" } });
    const e = await failure(nova.servers.create({ name: "n", imageRef: "i", flavorRef: "1", networks: "none" }));
    expect(e).toMatchObject({ category: "config", kind: "unsupportedByCloud", message: expect.stringContaining('networks "none" needs compute microversion 2.37; this cloud offers 2.36') });
    expect(r.requests).toHaveLength(2);
  });

  it("at 2.1 'auto' leaves the networks key out, as the recorded legacy boot did", async () => {
    const { r, nova } = zedNova([answer(createLegacy)], { range: { min: "2.1", max: "2.1" } });
    await nova.servers.create({ name: "smoke-legacy", imageRef: "ac2cb8ad-cbfb-4989-8915-94ce4c3565b7", flavorRef: "1", networks: "auto", metadata: { "autoscale-group": "web" } });
    expectRecorded(r.requests[2], createLegacy, "2.1");
  });

  it("tags at boot need 2.52: refused on a 2.40 cloud without a request", async () => {
    const { r, nova } = zedNova([], { range: { min: "2.1", max: "2.40" } });
    const e = await failure(nova.servers.create({ name: "t", imageRef: "i", flavorRef: "1", networks: "none", tags: ["web"] }));
    expect(e).toMatchObject({ category: "config", kind: "unsupportedByCloud" });
    expect(r.requests).toHaveLength(2);
  });

  const LABELS = { tags: ["novascale", "novascale:web"], description: "managed by novascale group web" };
  const labelled = { name: "web-a1", imageRef: "i", flavorRef: "1", networks: "none" as const, labels: LABELS };

  it("labels at 2.52 or later go in the boot body: tags and description", async () => {
    const { r, nova } = zedNova([answer(createSingle)]);
    await nova.servers.create(labelled);
    expect(r.requests[2]!.body).toMatchObject({ server: { tags: ["novascale", "novascale:web"], description: "managed by novascale group web" } });
  });

  it("labels between 2.19 and 2.51: the description only (tags at boot are unknown there), and no error", async () => {
    const { r, nova } = zedNova([answer(createSingle)], { range: { min: "2.1", max: "2.40" } });
    await nova.servers.create(labelled);
    const body = r.requests[2]!.body as { server: Record<string, unknown> };
    expect(body.server["description"]).toBe("managed by novascale group web");
    expect(body.server).not.toHaveProperty("tags");
  });

  it("labels below 2.19: neither tags nor description (Nova would refuse them with 400)", async () => {
    const { r, nova } = zedNova([answer(createLegacy)], { range: { min: "2.1", max: "2.18" } });
    await nova.servers.create({ ...labelled, networks: "auto" });
    const body = r.requests[2]!.body as { server: Record<string, unknown> };
    expect(body.server).not.toHaveProperty("tags");
    expect(body.server).not.toHaveProperty("description");
  });

  it("labels and explicit tags are sent together, each tag once", async () => {
    const { r, nova } = zedNova([answer(createSingle)]);
    await nova.servers.create({ ...labelled, tags: ["canary", "novascale"] });
    expect((r.requests[2]!.body as { server: { tags: string[] } }).server.tags).toEqual(["canary", "novascale", "novascale:web"]);
  });

  it("an unknown image: 400 badRequest, category config, not retried", async () => {
    const { r, nova } = zedNova([answer(badImage), answer(createSingle)]);
    const e = await failure(nova.servers.create({ name: "bad", imageRef: "00000000-0000-0000-0000-000000000000", flavorRef: "1", networks: "none", metadata: { "autoscale-group": "web" }, minCount: 1, maxCount: 1 }));
    expectRecorded(r.requests[2], badImage);
    expect(e).toMatchObject({ status: 400, category: "config", detail: "Can not find requested image" });
    expect(r.remaining()).toBe(1);
  });

  it("over quota: 403 forbidden, category quota", async () => {
    const { nova } = zedNova([answer(overQuota)]);
    const e = await failure(nova.servers.create({ name: "overq", imageRef: "ac2cb8ad-cbfb-4989-8915-94ce4c3565b7", flavorRef: "1", networks: "none", metadata: { "autoscale-group": "web" } }));
    expect(e).toMatchObject({ status: 403, category: "quota" });
  });

  it("a 409 on boot (several possible networks) is config, not transient: the same boot cannot succeed later", async () => {
    const conflict = json(409, { conflictingRequest: { code: 409, message: "Multiple possible networks found, use a Network ID to be more specific." } });
    const { r, nova } = zedNova([conflict, conflict]);
    const e = await failure(nova.servers.create({ name: "x", imageRef: "i", flavorRef: "1", networks: "auto" }));
    expect(e).toMatchObject({ status: 409, kind: "conflictingRequest", category: "config" });
    expect(r.requests).toHaveLength(3);
  });

  it("a 503 is not retried: the boot may have happened (the next listing tells)", async () => {
    const { r, nova } = zedNova([json(503, { computeFault: { code: 503, message: "busy" } }), answer(createSingle)]);
    await failure(nova.servers.create({ name: "x", imageRef: "i", flavorRef: "1", networks: "none" }));
    expect(r.requests).toHaveLength(3);
  });
});

describe("list and get", () => {
  it("GET /servers/detail parses the recorded listing", async () => {
    const { r, nova } = zedNova([answer(serversDetail)]);
    const servers = await nova.servers.list();
    expectRecorded(r.requests[2], serversDetail);
    expect(servers.map((s) => s.name)).toEqual(["smoke-single-1", "smoke-single-2", "smoke-web-1", "smoke-web-2", "smoke-resv-2", "smoke-web-3", "smoke-resv-1"]);
    expect(servers[0]).toMatchObject({ id: "a3b08383-465b-48f3-95d2-d13946188994", status: "ACTIVE", metadata: { "autoscale-group": "web" }, "OS-EXT-STS:task_state": null });
  });

  it("filters go into the query (reservation_id)", async () => {
    const { r, nova } = zedNova([answer(listByReservation)]);
    const servers = await nova.servers.list({ reservation_id: "r-hjbk6uuh" });
    expectRecorded(r.requests[2], listByReservation);
    expect(servers).toHaveLength(2);
  });

  it("the short listing with a tag filter (GET /servers?tags=web)", async () => {
    const { r, nova } = zedNova([answer(listByTags)]);
    const servers = await nova.servers.list({ tags: "web" }, { detail: false });
    expectRecorded(r.requests[2], listByTags);
    expect(servers.map((s) => s.id)).toEqual([SERVER, "7fe6044b-8354-4537-8932-8ff430fdd15b"]);
  });

  it("follows servers_links 'next' with limit/marker on our own endpoint, until a page has none", async () => {
    const all = serversDetail.response.body.servers;
    const page = (from: number, to: number, next?: string) =>
      json(200, { servers: all.slice(from, to), ...(next === undefined ? {} : { servers_links: [{ rel: "next", href: `http://nova-internal:8774/v2.1/servers/detail?limit=3&marker=${next}` }] }) });
    const { r, nova } = zedNova([page(0, 3, all[2]!.id), page(3, 6, all[5]!.id), page(6, 7)]);
    const servers = await nova.servers.list(undefined, { pageSize: 3 });
    expect(servers.map((s) => s.id)).toEqual(all.map((s) => s.id));
    expect(r.requests.slice(2).map((q) => q.url)).toEqual([
      `${NOVA}/servers/detail?limit=3`,
      `${NOVA}/servers/detail?limit=3&marker=${all[2]!.id}`,
      `${NOVA}/servers/detail?limit=3&marker=${all[5]!.id}`,
    ]);
  });

  it("listSummaries reads the same listing but keeps only what planning reads (id, name, status, created, metadata, task state, image, flavor size)", async () => {
    const { r, nova } = zedNova([answer(serversDetail)]);
    const summaries = await nova.servers.listSummaries();
    expectRecorded(r.requests[2], serversDetail);
    expect(summaries.map((s) => s.id)).toEqual(serversDetail.response.body.servers.map((s) => s.id));
    const kept = new Set(summaries.flatMap((s) => Object.keys(s)));
    expect([...kept].sort()).toEqual(["OS-EXT-STS:task_state", "created", "flavor", "id", "image", "metadata", "name", "status"]);
    // Of the image, only its id (its links would cost a copy per server).
    for (const s of summaries) expect(s.image === undefined || typeof s.image === "string").toBe(true);
    // Of the embedded flavor (2.47+) only its size (what an unshelve takes from the quota) and its name
    // (which of a group's flavors it runs: flavor fallback).
    expect(Object.keys(summaries[0]!.flavor ?? {}).sort()).toEqual(["original_name", "ram", "vcpus"]);
  });

  it("a server repeated on the next page is listed once (Nova repeats servers moving from build request to cell)", async () => {
    const all = serversDetail.response.body.servers;
    const first = json(200, { servers: all.slice(0, 3), servers_links: [{ rel: "next", href: `${NOVA}/servers/detail?limit=3&marker=${all[2]!.id}` }] });
    const second = json(200, { servers: all.slice(2, 5) });
    const { nova } = zedNova([first, second]);
    const servers = await nova.servers.list(undefined, { pageSize: 3 });
    expect(servers.map((s) => s.id)).toEqual(all.slice(0, 5).map((s) => s.id));
  });

  it("a next link that repeats a marker is an incomplete listing, not an endless loop", async () => {
    const all = serversDetail.response.body.servers;
    const same = json(200, { servers: all.slice(0, 1), servers_links: [{ rel: "next", href: `${NOVA}/servers/detail?marker=${all[0]!.id}` }] });
    const { nova } = zedNova([same, same, same]);
    await expect(nova.servers.list()).rejects.toMatchObject({ kind: "pagingLoop", category: "transient" });
  });

  it("a failing page fails the whole listing", async () => {
    const all = serversDetail.response.body.servers;
    const first = json(200, { servers: all.slice(0, 1), servers_links: [{ rel: "next", href: `${NOVA}/servers/detail?marker=${all[0]!.id}` }] });
    const broken = json(500, { computeFault: { code: 500, message: "db" } });
    const { nova } = zedNova([first, broken, broken, broken, broken]);
    await expect(nova.servers.list()).rejects.toMatchObject({ status: 500, category: "transient" });
  });

  it("GET /servers/{id}", async () => {
    const { r, nova } = zedNova([answer(serverShow)]);
    const server = await nova.servers.get(SERVER);
    expectRecorded(r.requests[2], serverShow);
    expect(server).toMatchObject({ id: SERVER, name: "smoke-web-1", status: "ACTIVE", created: "2026-11-26T20:18:17Z" });
  });

  it("a missing server is notFound with Nova's message and request id", async () => {
    const { r, nova } = zedNova([answer(missingServer)]);
    const e = await failure(nova.servers.get("00000000-0000-0000-0000-000000000000"));
    expectRecorded(r.requests[2], missingServer);
    expect(e).toMatchObject({ category: "notFound", kind: "itemNotFound", requestId: "req-2418fe15-0778-48bd-a6d3-b9fd0bbdf66c" });
  });
});

describe("update, delete, addresses", () => {
  it("rename: PUT /servers/{id} {server: {name}}", async () => {
    const { r, nova } = zedNova([answer(rename)]);
    const server = await nova.servers.update(SERVER, { name: "smoke-web-renamed" });
    expectRecorded(r.requests[2], rename);
    expect(server.name).toBe("smoke-web-renamed");
  });

  it("access IPs: PUT /servers/{id} {server: {accessIPv4, accessIPv6}}", async () => {
    const { r, nova } = zedNova([answer(rename)]);
    await nova.servers.update(SERVER, { accessIPv4: "192.0.2.10", accessIPv6: "2001:db8::10" });
    expect(r.requests[2]).toMatchObject({ method: "PUT", url: `${NOVA}/servers/${SERVER}`, body: { server: { accessIPv4: "192.0.2.10", accessIPv6: "2001:db8::10" } } });
  });

  it("DELETE /servers/{id} answers 204", async () => {
    const { r, nova } = zedNova([answer(deleteServer)]);
    await nova.servers.delete("fc4700af-e848-47d9-b853-a569a4b4c4d0");
    expectRecorded(r.requests[2], deleteServer);
  });

  it("addresses and addresses by network", async () => {
    const addresses = { public: [{ version: 4, addr: "192.168.100.2" }], private: [{ version: 4, addr: "192.168.200.2" }] };
    const { r, nova } = zedNova([json(200, { addresses }), json(200, { private: addresses.private })]);
    expect(await nova.servers.addresses(SERVER)).toEqual(addresses);
    expect(await nova.servers.addressesByNetwork(SERVER, "private")).toEqual(addresses.private);
    expect(r.requests.slice(2).map((q) => `${q.method} ${q.url}`)).toEqual([`GET ${NOVA}/servers/${SERVER}/ips`, `GET ${NOVA}/servers/${SERVER}/ips/private`]);
  });
});

describe("server metadata", () => {
  it("list: GET …/metadata", async () => {
    const { r, nova } = zedNova([answer(metadataGet)]);
    expect(await nova.servers.metadata(SERVER)).toEqual({ "autoscale-group": "web" });
    expectRecorded(r.requests[2], metadataGet);
  });

  it("get item: GET …/metadata/{key}", async () => {
    const { r, nova } = zedNova([answer(metadataGetKey)]);
    expect(await nova.servers.metadataItem(SERVER, "role")).toBe("backend");
    expectRecorded(r.requests[2], metadataGetKey);
  });

  it("set all: PUT …/metadata replaces", async () => {
    const { r, nova } = zedNova([answer(metadataReplace)]);
    expect(await nova.servers.setMetadata(SERVER, { "autoscale-group": "web", generation: "2" })).toEqual({ "autoscale-group": "web", generation: "2" });
    expectRecorded(r.requests[2], metadataReplace);
  });

  it("merge: POST …/metadata", async () => {
    const { r, nova } = zedNova([answer(metadataMerge)]);
    expect(await nova.servers.mergeMetadata(SERVER, { role: "frontend", "autoscale-group": "web" })).toEqual({ "autoscale-group": "web", role: "frontend" });
    expectRecorded(r.requests[2], metadataMerge);
  });

  it("set item: PUT …/metadata/{key} {meta}", async () => {
    const { r, nova } = zedNova([answer(metadataPutKey)]);
    expect(await nova.servers.setMetadataItem(SERVER, "role", "backend")).toEqual({ role: "backend" });
    expectRecorded(r.requests[2], metadataPutKey);
  });

  it("delete item: DELETE …/metadata/{key}, after which the item is notFound", async () => {
    const { r, nova } = zedNova([answer(metadataDelete), answer(metadataGetDeleted)]);
    await nova.servers.deleteMetadataItem(SERVER, "role");
    expectRecorded(r.requests[2], metadataDelete);
    await expect(nova.servers.metadataItem(SERVER, "role")).rejects.toMatchObject({ category: "notFound", detail: "Metadata item was not found" });
  });

  it("keys are escaped in the path (novascale:group)", async () => {
    const { r, nova } = zedNova([json(200, { meta: { "novascale:group": "web" } })]);
    await nova.servers.metadataItem(SERVER, "novascale:group");
    expect(r.requests[2]!.url).toBe(`${NOVA}/servers/${SERVER}/metadata/novascale%3Agroup`);
  });
});

describe("server actions (POST /servers/{id}/action)", () => {
  const action = `${NOVA}/servers/${SERVER}/action`;

  it("reboot SOFT, as recorded", async () => {
    const { r, nova } = zedNova([answer(reboot)]);
    await nova.servers.reboot(SERVER, "SOFT");
    expectRecorded(r.requests[2], reboot);
  });

  it("reboot HARD", async () => {
    const { r, nova } = zedNova([{ status: 202 }]);
    await nova.servers.reboot(SERVER, "HARD");
    expect(r.requests[2]).toMatchObject({ method: "POST", url: action, body: { reboot: { type: "HARD" } } });
  });

  it("changePassword", async () => {
    const { r, nova } = zedNova([{ status: 202 }]);
    await nova.servers.changePassword(SERVER, "n3w-pass");
    expect(r.requests[2]).toMatchObject({ method: "POST", url: action, body: { changePassword: { adminPass: "n3w-pass" } } });
  });

  it("rebuild returns the server", async () => {
    const { r, nova } = zedNova([json(202, serverShow.response.body)]);
    const server = await nova.servers.rebuild(SERVER, { imageRef: "ac2cb8ad-cbfb-4989-8915-94ce4c3565b7", name: "smoke-web-1", metadata: { "autoscale-group": "web" } });
    expect(r.requests[2]).toMatchObject({ method: "POST", url: action, body: { rebuild: { imageRef: "ac2cb8ad-cbfb-4989-8915-94ce4c3565b7", name: "smoke-web-1", metadata: { "autoscale-group": "web" } } } });
    expect(server.id).toBe(SERVER);
  });

  it("resize, confirmResize, revertResize", async () => {
    const { r, nova } = zedNova([{ status: 202 }, { status: 204 }, { status: 202 }]);
    await nova.servers.resize(SERVER, "2");
    await nova.servers.confirmResize(SERVER);
    await nova.servers.revertResize(SERVER);
    expect(r.requests.slice(2).map((q) => q.body)).toEqual([{ resize: { flavorRef: "2" } }, { confirmResize: null }, { revertResize: null }]);
    expect(r.requests.slice(2).every((q) => q.method === "POST" && q.url === action)).toBe(true);
  });

  it("createImage from 2.45: the id comes from the body", async () => {
    const { r, nova } = zedNova([answer(createImage)]);
    expect(await nova.servers.createImage(SERVER, "smoke-snap", { "autoscale-group": "web" })).toBe("be865a13-1171-4d93-83e2-fbe215b3789b");
    expectRecorded(r.requests[2], createImage);
  });

  it("createImage before 2.45: the id comes from the Location header", async () => {
    const { r, nova } = zedNova([{ status: 202, headers: { Location: "http://127.0.0.1:9292/v2/images/0f4a1c5e-1111-2222-3333-444455556666" } }], { range: { min: "2.1", max: "2.44" } });
    expect(await nova.servers.createImage(SERVER, "snap")).toBe("0f4a1c5e-1111-2222-3333-444455556666");
    expect(r.requests[2]).toMatchObject({ body: { createImage: { name: "snap" } }, headers: { "x-openstack-nova-api-version": "2.44" } });
  });

  it("createImage with neither body nor Location is a cloud error", async () => {
    const { nova } = zedNova([{ status: 202 }]);
    await expect(nova.servers.createImage(SERVER, "snap")).rejects.toMatchObject({ category: "cloud" });
  });
});

describe("server tags (2.26+)", () => {
  it("replace all: PUT …/tags", async () => {
    const { r, nova } = zedNova([answer(tagsReplace)]);
    expect(await nova.servers.replaceTags("7fe6044b-8354-4537-8932-8ff430fdd15b", ["web", "canary"])).toEqual(["canary", "web"]);
    expectRecorded(r.requests[2], tagsReplace);
  });

  it("add one: PUT …/tags/{tag} answers 201", async () => {
    const { r, nova } = zedNova([answer(tagAdd)]);
    await nova.servers.addTag(SERVER, "web");
    expectRecorded(r.requests[2], tagAdd);
  });

  it("list, check (204 yes / 404 no) and delete", async () => {
    const { r, nova } = zedNova([
      json(200, { tags: ["web"] }),
      { status: 204 },
      json(404, { itemNotFound: { code: 404, message: "Tag db could not be found." } }),
      { status: 204 },
      { status: 204 },
    ]);
    expect(await nova.servers.tags(SERVER)).toEqual(["web"]);
    expect(await nova.servers.hasTag(SERVER, "web")).toBe(true);
    expect(await nova.servers.hasTag(SERVER, "db")).toBe(false);
    await nova.servers.deleteTag(SERVER, "web");
    await nova.servers.deleteAllTags(SERVER);
    expect(r.requests.slice(2).map((q) => `${q.method} ${q.url}`)).toEqual([
      `GET ${NOVA}/servers/${SERVER}/tags`,
      `GET ${NOVA}/servers/${SERVER}/tags/web`,
      `GET ${NOVA}/servers/${SERVER}/tags/db`,
      `DELETE ${NOVA}/servers/${SERVER}/tags/web`,
      `DELETE ${NOVA}/servers/${SERVER}/tags`,
    ]);
  });

  it("checking a tag on a missing server is notFound, not 'no'", async () => {
    const { nova } = zedNova([answer(missingServer)]);
    await expect(nova.servers.hasTag("00000000-0000-0000-0000-000000000000", "web")).rejects.toMatchObject({ category: "notFound" });
  });

  it("before 2.26 tags are refused without a request", async () => {
    const { r, nova } = zedNova([], { range: { min: "2.1", max: "2.25" } });
    await expect(nova.servers.tags(SERVER)).rejects.toMatchObject({ category: "config", kind: "unsupportedByCloud" });
    expect(r.requests).toHaveLength(2);
  });
});

describe("no secrets in errors", () => {
  it("an adminPass that Nova echoes back in a 400 is masked", async () => {
    const echo = json(400, { badRequest: { code: 400, message: "Invalid input for field/attribute adminPass. Value: hunter2-pass. 'hunter2-pass' is too short" } });
    const { nova } = zedNova([echo]);
    const e = await failure(nova.servers.changePassword(SERVER, "hunter2-pass"));
    expect(e.detail).toBe("Invalid input for field/attribute adminPass. Value: ***. '***' is too short");
    expect(e.message).not.toContain("hunter2-pass");
  });

  it("the session's password and token never appear, whatever a service echoes", async () => {
    const echo = json(400, { badRequest: { code: 400, message: `odd: ${TEST_TOKEN} and s3cret-demo-pw` } });
    const { nova } = zedNova([echo]);
    const e = await failure(nova.servers.get(SERVER));
    expect(e.detail).toBe("odd: *** and ***");
  });
});
