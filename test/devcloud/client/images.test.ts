// Client conformance against the real Nova + Glance: createImage (snapshot), image properties in all forms, list by property, delete.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenStackError, type GlanceClient, type OpenStackComputeCloud } from "../../../src/openstack/index.ts";
import { type Devcloud, testName } from "../support/devcloud.ts";
import { failure, openCloud, rawCloud } from "./cloud.ts";

const prefix = testName("img");
let cloud: OpenStackComputeCloud;
let glance: GlanceClient;
let raw: Devcloud;
let serverId: string;
/** A snapshot made in beforeAll, active in Glance. */
let snapshotId: string;

beforeAll(async () => {
  cloud = openCloud();
  raw = await rawCloud();
  const g = await cloud.glance();
  if (g === undefined) throw new Error("the devcloud catalog has Glance v2; the client found none");
  glance = g;
  const booted = await cloud.boot({
    name: `${prefix}-source`,
    imageId: (await cloud.resolveImage("cirros-fake")).id,
    flavorId: (await cloud.resolveFlavor("m1.tiny")).id,
    metadata: {},
    networks: "none",
    count: 1,
  });
  serverId = booted.serverIds[0]!;
  await raw.waitServerStatus(serverId, "ACTIVE");
  snapshotId = await cloud.createImage(serverId, `${prefix}-snap`, { "novascale:group": prefix, "novascale:firing": "2026-11-26T02:30:00Z" });
  await raw.waitImageStatus(snapshotId, "active");
  await raw.waitServerStatus(serverId, "ACTIVE");
});

afterAll(async () => {
  await (await rawCloud()).sweep(prefix);
});

describe("createImage", () => {
  it("returns the new image's id, and Glance has it active under that name with our metadata as properties", async () => {
    const image = await raw.image(snapshotId);
    expect(image?.name).toBe(`${prefix}-snap`);
    expect(image?.status).toBe("active");
    expect(image?.["novascale:group"]).toBe(prefix);
  });

  it("getImage shows the snapshot as the snapshot planner sees it", async () => {
    const observed = await cloud.getImage(snapshotId);
    expect(observed).toMatchObject({ id: snapshotId, name: `${prefix}-snap`, status: "active" });
    expect(observed?.properties).toMatchObject({ "novascale:group": prefix, "novascale:firing": "2026-11-26T02:30:00Z" });
    expect(Date.parse(observed!.created)).not.toBeNaN();
  });

  it("listImages by properties finds exactly the images carrying all of them", async () => {
    const found = await cloud.listImages({ "novascale:group": prefix });
    expect(found.map((i) => i.id)).toEqual([snapshotId]);
    expect(await cloud.listImages({ "novascale:group": prefix, "novascale:firing": "another-firing" })).toEqual([]);
  });

  it("before 2.45 the image id comes from the Location header, and it names the same kind of snapshot", async () => {
    const old = openCloud({ microversion: "2.44" });
    const id = await old.createImage(serverId, `${prefix}-snap-244`, {});
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const image = await raw.waitImageStatus(id, "active");
    expect(image.name).toBe(`${prefix}-snap-244`);
    await raw.waitServerStatus(serverId, "ACTIVE");
  });
});

describe("image properties", () => {
  it("merge adds and updates properties and keeps the others", async () => {
    const merged = await glance.mergeMetadata(snapshotId, { purpose: "test", "novascale:firing": "2026-11-27T02:30:00Z" });
    expect(merged).toMatchObject({ purpose: "test", "novascale:firing": "2026-11-27T02:30:00Z", "novascale:group": prefix });
  });

  it("one item: set, read back, delete; a deleted property is not found", async () => {
    await glance.setMetadataItem(snapshotId, "color", "blue");
    expect(await glance.metadataItem(snapshotId, "color")).toBe("blue");
    await glance.deleteMetadataItem(snapshotId, "color");
    const error = await failure(glance.metadataItem(snapshotId, "color"));
    expect((error as OpenStackError).category).toBe("notFound");
  });

  it("replace leaves exactly the given user properties", async () => {
    await glance.setMetadata(snapshotId, { "novascale:group": prefix, only: "this" });
    const properties = await glance.metadata(snapshotId);
    expect(properties["only"]).toBe("this");
    expect(properties["purpose"]).toBeUndefined();
    expect(properties["novascale:firing"]).toBeUndefined();
  });

  it("Glance's list filters on a property server-side", async () => {
    const listed = await glance.list({ "novascale:group": prefix });
    expect(listed.map((i) => i.id)).toEqual([snapshotId]);
  });
});

describe("Nova's image proxy (the book's image calls, pinned to 2.35 on this 2.93 cloud)", () => {
  it("lists images and finds the public image by name", async () => {
    const images = await cloud.nova.images.list();
    expect(images.map((i) => i.name)).toContain("cirros-fake");
    const found = await cloud.nova.images.find("cirros-fake");
    expect((await cloud.nova.images.get(found.id)).name).toBe("cirros-fake");
  });

  it("image metadata through Nova: merge, item set/read/delete, replace — and Glance sees the same properties", async () => {
    const images = cloud.nova.images;
    expect(await images.mergeMetadata(snapshotId, { "via-nova": "merged" })).toMatchObject({ "via-nova": "merged" });
    await images.setMetadataItem(snapshotId, "shade", "green");
    expect(await images.metadataItem(snapshotId, "shade")).toBe("green");
    await images.deleteMetadataItem(snapshotId, "shade");
    expect(((await failure(images.metadataItem(snapshotId, "shade"))) as OpenStackError).category).toBe("notFound");
    await images.setMetadata(snapshotId, { "novascale:group": prefix, "via-nova": "replaced" });
    expect(await images.metadata(snapshotId)).toMatchObject({ "via-nova": "replaced" });
    expect((await glance.metadata(snapshotId))["via-nova"]).toBe("replaced");
  });
});

describe("delete image", () => {
  it("deleteImage removes the snapshot from Glance; getImage then gives null and a second delete is not an error", async () => {
    const id = await cloud.createImage(serverId, `${prefix}-doomed`, {});
    await raw.waitImageStatus(id, "active");
    await raw.waitServerStatus(serverId, "ACTIVE");
    await cloud.deleteImage(id);
    expect(await raw.image(id)).toBeUndefined();
    expect(await cloud.getImage(id)).toBeNull();
    await expect(cloud.deleteImage(id)).resolves.toBeUndefined();
  });

  it("the low-level Glance delete of an unknown image is not found (404)", async () => {
    const error = await failure(glance.delete("00000000-0000-0000-0000-000000000000"));
    expect((error as OpenStackError).status).toBe(404);
  });
});
