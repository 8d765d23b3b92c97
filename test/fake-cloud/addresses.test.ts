// The fake Nova's address and image-metadata calls (issue 27 item 8): /ips, /ips/{network}, access IPs, and /images/{id}/metadata.
import { describe, expect, it } from "vitest";
import type { FakeCloud } from "./cloud.ts";
import type { FakeSession } from "./session.ts";
import { boot, cirrosId, freshCloud, obj } from "./testing.ts";

async function activeServer(cloud: FakeCloud, s: FakeSession, extra: Record<string, unknown> = {}): Promise<string> {
  return obj(await boot(cloud, s, "addr", { networks: "auto", ...extra })).server.id as string;
}

/** An image the demo project owns (a snapshot), so it may change its properties. */
async function ownImage(cloud: FakeCloud, s: FakeSession, metadata: Record<string, string> = { role: "web" }): Promise<string> {
  const id = await activeServer(cloud, s);
  return obj(await s.nova("POST", `/servers/${id}/action`, { createImage: { name: "own", metadata } }, "2.45")).image_id as string;
}

describe("GET /servers/{id}/ips", () => {
  it("lists the server's addresses by network with version and addr only", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, autoAllocateNetwork: true });
    const id = await activeServer(cloud, s);
    const addr = cloud.servers.get(id)?.addresses[0]?.addr;
    expect(obj(await s.nova("GET", `/servers/${id}/ips`))).toEqual({ addresses: { private: [{ version: 4, addr }] } });
  });

  it("answers an empty addresses object for a server without networks", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = obj(await boot(cloud, s, "bare")).server.id as string;
    expect(obj(await s.nova("GET", `/servers/${id}/ips`))).toEqual({ addresses: {} });
  });

  it("answers 404 for a server that does not exist", async () => {
    const { s } = await freshCloud();
    expect((await s.nova("GET", "/servers/00000000-0000-0000-0000-000000000000/ips")).status).toBe(404);
  });

  it("shows one network's addresses under its label", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, autoAllocateNetwork: true });
    const id = await activeServer(cloud, s);
    const addr = cloud.servers.get(id)?.addresses[0]?.addr;
    expect(obj(await s.nova("GET", `/servers/${id}/ips/private`))).toEqual({ private: [{ version: 4, addr }] });
  });

  it("answers Nova's 404 for a network the server is not on", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, autoAllocateNetwork: true });
    const id = await activeServer(cloud, s);
    const res = await s.nova("GET", `/servers/${id}/ips/public`);
    expect([res.status, obj(res).itemNotFound?.message]).toEqual([404, "Instance is not a member of specified network"]);
  });
});

describe("access IPs", () => {
  it("keeps the access IPs given at boot and shows them", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = await activeServer(cloud, s, { networks: "none", accessIPv4: "203.0.113.10", accessIPv6: "2001:db8::10" });
    const shown = obj(await s.nova("GET", `/servers/${id}`)).server;
    expect([shown.accessIPv4, shown.accessIPv6]).toEqual(["203.0.113.10", "2001:db8::10"]);
  });

  it("updates them with PUT /servers/{id} and answers the new values", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = await activeServer(cloud, s, { networks: "none" });
    const res = obj(await s.nova("PUT", `/servers/${id}`, { server: { accessIPv4: "203.0.113.11", accessIPv6: "2001:db8::11" } })).server;
    expect([res.accessIPv4, res.accessIPv6]).toEqual(["203.0.113.11", "2001:db8::11"]);
  });

  it("leaves an access IP not named in the update as it was", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = await activeServer(cloud, s, { networks: "none", accessIPv4: "203.0.113.10", accessIPv6: "2001:db8::10" });
    await s.nova("PUT", `/servers/${id}`, { server: { accessIPv4: "203.0.113.12" } });
    expect(cloud.servers.get(id)?.accessIPv6).toBe("2001:db8::10");
  });

  it("stores an IPv6 access address in its compressed form", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = await activeServer(cloud, s, { networks: "none" });
    await s.nova("PUT", `/servers/${id}`, { server: { accessIPv6: "2001:0db8:0000:0000:0000:0000:0000:0011" } });
    expect(cloud.servers.get(id)?.accessIPv6).toBe("2001:db8::11");
  });

  it("refuses an access IPv4 that is not a dotted quad with 400 and changes nothing", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = await activeServer(cloud, s, { networks: "none", accessIPv4: "203.0.113.10" });
    const res = await s.nova("PUT", `/servers/${id}`, { server: { name: "renamed", accessIPv4: "203.0.113.256" } });
    expect([res.status, cloud.servers.get(id)?.name, cloud.servers.get(id)?.accessIPv4]).toEqual([400, "addr", "203.0.113.10"]);
  });

  it("refuses an access IPv6 that is not an address with 400", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = await activeServer(cloud, s, { networks: "none" });
    expect((await s.nova("PUT", `/servers/${id}`, { server: { accessIPv6: "db8::zz" } })).status).toBe(400);
  });

  it("refuses a boot with an invalid access IP and boots nothing", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const res = await boot(cloud, s, "bad-ip", { accessIPv4: "example.com" });
    expect([res.status, cloud.servers.size]).toEqual([400, 0]);
  });

  it("sets the access IPs a rebuild names", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, actionMs: 0 });
    const id = await activeServer(cloud, s, { networks: "none" });
    await s.nova("POST", `/servers/${id}/action`, { rebuild: { imageRef: cirrosId(cloud), accessIPv4: "198.51.100.7" } });
    expect(cloud.servers.get(id)?.accessIPv4).toBe("198.51.100.7");
  });
});

describe("Nova's image-metadata proxy", () => {
  it("lists an image's properties as metadata", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 0 });
    const image = await ownImage(cloud, s);
    expect(obj(await s.nova("GET", `/images/${image}/metadata`, undefined, "2.1")).metadata.role).toBe("web");
  });

  it("shows one key as meta", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 0 });
    const image = await ownImage(cloud, s);
    expect(obj(await s.nova("GET", `/images/${image}/metadata/role`, undefined, "2.1"))).toEqual({ meta: { role: "web" } });
  });

  it("answers 404 for a key the image does not have", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 0 });
    const image = await ownImage(cloud, s);
    expect((await s.nova("GET", `/images/${image}/metadata/nope`, undefined, "2.1")).status).toBe(404);
  });

  it("deletes one key and keeps the image and its other properties", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 0 });
    const image = await ownImage(cloud, s, { role: "web", tier: "front" });
    const res = await s.nova("DELETE", `/images/${image}/metadata/role`, undefined, "2.1");
    const glance = obj(await s.glance("GET", `/images/${image}`));
    expect([res.status, glance.id, glance.role, glance.tier]).toEqual([204, image, undefined, "front"]);
  });

  it("answers Nova's 404 when deleting a key the image does not have", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 0 });
    const image = await ownImage(cloud, s);
    const res = await s.nova("DELETE", `/images/${image}/metadata/nope`, undefined, "2.1");
    expect([res.status, obj(res).itemNotFound?.message]).toEqual([404, "Invalid metadata key"]);
  });

  it("merges with POST and answers the whole set", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 0 });
    const image = await ownImage(cloud, s);
    const res = obj(await s.nova("POST", `/images/${image}/metadata`, { metadata: { tier: "front" } }, "2.1"));
    expect([res.metadata.role, res.metadata.tier]).toEqual(["web", "front"]);
  });

  it("replaces the whole set with PUT", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 0 });
    const image = await ownImage(cloud, s);
    const res = obj(await s.nova("PUT", `/images/${image}/metadata`, { metadata: { tier: "front" } }, "2.1"));
    expect(res).toEqual({ metadata: { tier: "front" } });
  });

  it("sets one key with PUT /metadata/{key}, visible in Glance", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 0 });
    const image = await ownImage(cloud, s);
    const res = obj(await s.nova("PUT", `/images/${image}/metadata/role`, { meta: { role: "db" } }, "2.1"));
    expect([res, obj(await s.glance("GET", `/images/${image}`)).role]).toEqual([{ meta: { role: "db" } }, "db"]);
  });

  it("refuses a key body that does not match the URI with 400", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 0 });
    const image = await ownImage(cloud, s);
    const res = await s.nova("PUT", `/images/${image}/metadata/role`, { meta: { other: "db" } }, "2.1");
    expect([res.status, obj(res).badRequest?.message]).toEqual([400, "Request body and URI mismatch"]);
  });

  it("refuses more properties than the metadata quota with Nova's 403 and changes nothing", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 0 });
    const image = await ownImage(cloud, s);
    cloud.setQuota("demo", { metadata_items: 2 });
    const before = { ...cloud.images.get(image)?.properties };
    const res = await s.nova("POST", `/images/${image}/metadata`, { metadata: { a: "1", b: "2", c: "3" } }, "2.1");
    expect([res.status, obj(res).forbidden?.message, cloud.images.get(image)?.properties]).toEqual([403, "Image metadata limit exceeded", before]);
  });

  it("refuses to change an image the project does not own with 403", async () => {
    const { cloud, s } = await freshCloud();
    const res = await s.nova("POST", `/images/${cirrosId(cloud)}/metadata`, { metadata: { x: "1" } }, "2.1");
    expect([res.status, cloud.images.get(cirrosId(cloud))?.properties.x]).toEqual([403, undefined]);
  });

  it("still answers at 2.38, where the images proxy itself is gone", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 0 });
    const image = await ownImage(cloud, s);
    const statuses = [(await s.nova("GET", `/images/${image}`, undefined, "2.38")).status, (await s.nova("GET", `/images/${image}/metadata`, undefined, "2.38")).status];
    expect(statuses).toEqual([404, 200]);
  });

  it("is gone from 2.39", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 0 });
    const image = await ownImage(cloud, s);
    expect((await s.nova("GET", `/images/${image}/metadata`, undefined, "2.39")).status).toBe(404);
  });
});
