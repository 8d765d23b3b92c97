// Client conformance against the real Nova: boot (single, multi), list/paging, get, addresses, metadata, rename, tags, actions, delete.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenStackError, type OpenStackComputeCloud } from "../../../src/openstack/index.ts";
import { DEVCLOUD_NETWORKS, type Devcloud, testName, waitFor } from "../support/devcloud.ts";
import { failure, openCloud, rawCloud } from "./cloud.ts";

const prefix = testName("srv");
let cloud: OpenStackComputeCloud;
let raw: Devcloud;
let imageId: string;
let flavorId: string;
/** One ACTIVE server most tests work on. */
let serverId: string;

beforeAll(async () => {
  cloud = openCloud();
  raw = await rawCloud();
  imageId = (await cloud.resolveImage("cirros-fake")).id;
  flavorId = (await cloud.resolveFlavor("m1.tiny")).id;
  const booted = await cloud.boot({ name: `${prefix}-main`, imageId, flavorId, metadata: { role: "main", "novascale:test": prefix }, networks: "none", count: 1 });
  serverId = booted.serverIds[0]!;
  await raw.waitServerStatus(serverId, "ACTIVE");
});

afterAll(async () => {
  await (await rawCloud()).sweep(prefix);
});

/** Deletes servers a test no longer needs and waits until they are gone: the project's quota is 10 instances. */
async function discard(ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => raw.deleteServer(id)));
  await Promise.all(ids.map((id) => raw.waitServerGone(id)));
}

describe("boot", () => {
  it("one server: Nova names it as asked, with our metadata, and it becomes ACTIVE", async () => {
    const server = await raw.server(serverId);
    expect(server?.name).toBe(`${prefix}-main`);
    expect(server?.metadata).toEqual({ role: "main", "novascale:test": prefix });
    expect(server?.status).toBe("ACTIVE");
  });

  it("multi-create: one request boots `count` servers named -1..-N; the answer names the first", async () => {
    const name = `${prefix}-multi`;
    const result = await cloud.boot({ name, imageId, flavorId, metadata: { batch: name }, networks: "none", count: 3 });
    expect(result.serverIds).toHaveLength(1);
    const mine = await raw.serversWithMetadata("batch", name);
    expect(mine.map((s) => s.name).sort()).toEqual([`${name}-1`, `${name}-2`, `${name}-3`]);
    expect(mine.map((s) => s.id)).toContain(result.serverIds[0]);
    await Promise.all(mine.map((s) => raw.waitServerStatus(s.id, "ACTIVE")));
  });

  it("multi-create with return_reservation_id answers only the reservation, which lists the servers", async () => {
    const name = `${prefix}-resv`;
    const result = await cloud.nova.servers.create({ name, imageRef: imageId, flavorRef: flavorId, networks: "none", minCount: 2, maxCount: 2, returnReservationId: true });
    expect(result.id).toBeUndefined();
    expect(result.reservationId).toMatch(/^r-/);
    const listed = await cloud.nova.servers.list({ reservation_id: result.reservationId! });
    expect(listed.map((s) => s.name).sort()).toEqual([`${name}-1`, `${name}-2`]);
    await Promise.all(listed.map((s) => raw.waitServerStatus(s.id, "ACTIVE")));
    await discard(listed.map((s) => s.id));
  });

  it("tags given at boot (2.52+) are on the server once it is built", async () => {
    const result = await cloud.nova.servers.create({ name: `${prefix}-tagged`, imageRef: imageId, flavorRef: flavorId, networks: "none", tags: ["blue", "canary"] });
    // Real Nova answers 404 on /servers/{id}/tags while the server is still a build request (not yet in a cell).
    await raw.waitServerStatus(result.id!, "ACTIVE");
    expect((await cloud.nova.servers.tags(result.id!)).sort()).toEqual(["blue", "canary"]);
    await discard([result.id!]);
  });
});

describe("list and get", () => {
  it("listServers gives every server of the project as the planner sees it (status, created, metadata)", async () => {
    const observed = await cloud.listServers();
    const onNova = await raw.servers();
    expect(observed.map((s) => s.id).sort()).toEqual(onNova.map((s) => s.id).sort());
    const main = observed.find((s) => s.id === serverId);
    expect(main).toMatchObject({ name: `${prefix}-main`, status: "ACTIVE", metadata: { role: "main" } });
    expect(Date.parse(main!.created)).not.toBeNaN();
  });

  it("paging: a page size of 1 still returns every server, following the next links", async () => {
    // Only a settled listing is stable: a server moving from build request to cell mid-listing can show up twice.
    await waitFor("no server of the project in BUILD", async () => ((await raw.servers()).some((s) => s.status === "BUILD") ? undefined : true));
    const paged = await cloud.nova.servers.list(undefined, { detail: true, pageSize: 1 });
    const onNova = await raw.servers();
    expect(onNova.length).toBeGreaterThan(1);
    expect(paged.map((s) => s.id).sort()).toEqual(onNova.map((s) => s.id).sort());
  });

  it("a name filter is a regular expression on Nova's side", async () => {
    const listed = await cloud.nova.servers.list({ name: `^${prefix}-multi` });
    expect(listed.map((s) => s.name).sort()).toEqual([`${prefix}-multi-1`, `${prefix}-multi-2`, `${prefix}-multi-3`]);
  });

  it("get returns the server with its flavor name and no addresses (booted with networks none)", async () => {
    const server = await cloud.nova.servers.get(serverId);
    expect(server.id).toBe(serverId);
    expect(server.flavor?.original_name).toBe("m1.tiny");
    expect(server.addresses).toEqual({});
  });

  it("a server booted on the private and public networks has one loopback-range address on each", async () => {
    const booted = await cloud.boot({
      name: `${prefix}-nets`,
      imageId,
      flavorId,
      metadata: {},
      networks: [{ uuid: DEVCLOUD_NETWORKS.private }, { uuid: DEVCLOUD_NETWORKS.public }],
      count: 1,
    });
    const id = booted.serverIds[0]!;
    await raw.waitServerStatus(id, "ACTIVE");
    const addresses = await cloud.nova.servers.addresses(id);
    expect(Object.keys(addresses).sort()).toEqual(["private", "public"]);
    expect(addresses["private"]?.map((a) => a.addr)).toEqual([expect.stringMatching(/^127\.100\./)]);
    const onPublic = await cloud.nova.servers.addressesByNetwork(id, "public");
    expect(onPublic).toEqual([expect.objectContaining({ addr: expect.stringMatching(/^127\.200\./), version: 4 })]);
    expect((await cloud.nova.servers.get(id)).addresses?.["public"]?.[0]?.addr).toBe(onPublic[0]?.addr);
    await discard([id]);
  });

  it("addresses of a server without networks are empty, and a named network is not found", async () => {
    expect(await cloud.nova.servers.addresses(serverId)).toEqual({});
    const error = await failure(cloud.nova.servers.addressesByNetwork(serverId, "private"));
    expect((error as OpenStackError).status).toBe(404);
  });
});

describe("metadata", () => {
  it("merge (POST) adds and updates keys and keeps the others", async () => {
    const merged = await cloud.nova.servers.mergeMetadata(serverId, { tier: "web", role: "primary" });
    expect(merged).toMatchObject({ tier: "web", role: "primary", "novascale:test": prefix });
    expect((await raw.server(serverId))?.metadata).toMatchObject({ tier: "web", role: "primary" });
  });

  it("one item: set, read back, delete; a deleted key is not found", async () => {
    await cloud.nova.servers.setMetadataItem(serverId, "color", "green");
    expect(await cloud.nova.servers.metadataItem(serverId, "color")).toBe("green");
    await cloud.nova.servers.deleteMetadataItem(serverId, "color");
    const error = await failure(cloud.nova.servers.metadataItem(serverId, "color"));
    expect((error as OpenStackError).category).toBe("notFound");
  });

  it("replace (PUT) leaves exactly the given keys", async () => {
    const replaced = await cloud.nova.servers.setMetadata(serverId, { role: "main", "novascale:test": prefix });
    expect(replaced).toEqual({ role: "main", "novascale:test": prefix });
    expect(await cloud.nova.servers.metadata(serverId)).toEqual({ role: "main", "novascale:test": prefix });
  });
});

describe("rename and tags", () => {
  it("rename changes the name Nova reports", async () => {
    const updated = await cloud.nova.servers.update(serverId, { name: `${prefix}-renamed` });
    expect(updated.name).toBe(`${prefix}-renamed`);
    expect((await raw.server(serverId))?.name).toBe(`${prefix}-renamed`);
  });

  it("tags: add, check, list, filter the server list by tag, replace, delete one, delete all", async () => {
    const servers = cloud.nova.servers;
    await servers.addTag(serverId, "web");
    expect(await servers.hasTag(serverId, "web")).toBe(true);
    expect(await servers.tags(serverId)).toEqual(["web"]);
    expect((await servers.list({ tags: "web" })).map((s) => s.id)).toContain(serverId);
    expect((await servers.replaceTags(serverId, ["a", "b"])).sort()).toEqual(["a", "b"]);
    await servers.deleteTag(serverId, "a");
    expect(await servers.hasTag(serverId, "a")).toBe(false);
    await servers.deleteAllTags(serverId);
    expect(await servers.tags(serverId)).toEqual([]);
  });
});

describe("server actions", () => {
  it("changePassword is accepted and the server stays ACTIVE", async () => {
    await cloud.nova.servers.changePassword(serverId, "n3w-Passw0rd-for-test");
    await raw.waitServerStatus(serverId, "ACTIVE");
  });

  it("reboot SOFT and HARD each bring the server back to ACTIVE", async () => {
    await cloud.nova.servers.reboot(serverId, "SOFT");
    await raw.waitServerStatus(serverId, "ACTIVE");
    await cloud.nova.servers.reboot(serverId, "HARD");
    await raw.waitServerStatus(serverId, "ACTIVE");
  });

  it("rebuild with new metadata comes back ACTIVE with that metadata", async () => {
    const rebuilt = await cloud.nova.servers.rebuild(serverId, { imageRef: imageId, metadata: { role: "rebuilt", "novascale:test": prefix } });
    expect(rebuilt.id).toBe(serverId);
    const after = await raw.waitServerStatus(serverId, "ACTIVE");
    expect(after.metadata).toEqual({ role: "rebuilt", "novascale:test": prefix });
  });

  it("resize waits in VERIFY_RESIZE; confirm keeps the new flavor", async () => {
    await cloud.nova.servers.resize(serverId, (await cloud.resolveFlavor("m1.small")).id);
    await raw.waitServerStatus(serverId, "VERIFY_RESIZE");
    await cloud.nova.servers.confirmResize(serverId);
    const after = await raw.waitServerStatus(serverId, "ACTIVE");
    expect(after.flavor.original_name).toBe("m1.small");
  });

  it("resize then revert goes back to the previous flavor", async () => {
    await cloud.nova.servers.resize(serverId, (await cloud.resolveFlavor("m1.medium")).id);
    await raw.waitServerStatus(serverId, "VERIFY_RESIZE");
    await cloud.nova.servers.revertResize(serverId);
    const after = await raw.waitServerStatus(serverId, "ACTIVE");
    expect(after.flavor.original_name).toBe("m1.small");
  });

  it("an action the server's state does not allow is a conflict (409), e.g. confirming a resize that is not pending", async () => {
    const error = await failure(cloud.nova.servers.confirmResize(serverId));
    expect((error as OpenStackError).status).toBe(409);
  });
});

describe("delete", () => {
  it("deleteServer removes the server from Nova; deleting it again is not an error", async () => {
    const booted = await cloud.boot({ name: `${prefix}-doomed`, imageId, flavorId, metadata: {}, networks: "none", count: 1 });
    const id = booted.serverIds[0]!;
    await raw.waitServerStatus(id, "ACTIVE");
    await cloud.deleteServer(id);
    await raw.waitServerGone(id);
    await expect(cloud.deleteServer(id)).resolves.toBeUndefined();
  });

  it("the low-level delete of an unknown server is not found (404)", async () => {
    const error = await failure(cloud.nova.servers.delete("00000000-0000-0000-0000-000000000000"));
    expect((error as OpenStackError).status).toBe(404);
    expect((error as OpenStackError).category).toBe("notFound");
  });
});
