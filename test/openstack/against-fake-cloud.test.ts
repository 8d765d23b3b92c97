// The client against the project's emulator (test/fake-cloud), in-process: today's cloud and the book's, every facade call.
import { describe, expect, it } from "vitest";
import { OpenStackSettingsSchema } from "../../src/config/env.ts";
import { GROUP_KEY } from "../../src/core/model/membership.ts";
import { createComputeCloud, type ComputeCloudOptions } from "../../src/openstack/compute-cloud.ts";
import { FakeCloud, type FakeCloudOptions } from "../fake-cloud/index.ts";

const BASE = "http://fake-cloud.test";

function connect(fakeOptions: FakeCloudOptions, authPath: string, extra: ComputeCloudOptions = {}) {
  const fake = new FakeCloud({ seed: 3, startAt: "2026-11-26T12:00:00Z", buildMs: 1_000, snapshotMs: 1_000, ...fakeOptions });
  const settings = OpenStackSettingsSchema.parse({
    OS_AUTH_URL: `${BASE}${authPath}`,
    OS_USERNAME: "demo",
    OS_PASSWORD: "demo-password",
    OS_PROJECT_NAME: "demo",
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_DOMAIN_NAME: "Default",
  });
  const cloud = createComputeCloud(settings, { fetch: (input, init) => fake.fetch(input, init), sleep: async () => undefined, ...extra });
  return { fake, cloud };
}

describe("today's cloud (Keystone v3, Nova 2.93, Glance v2)", () => {
  it("boots a group, lists it, snapshots a member, finds and deletes the snapshot, deletes the servers", async () => {
    const { fake, cloud } = connect({}, "/identity/v3");
    const image = await cloud.resolveImage("cirros");
    const flavor = await cloud.resolveFlavor("m1.tiny");
    expect(flavor).toMatchObject({ id: "1", vcpus: 1, ramMB: 512 });
    const limits = await cloud.absoluteLimits();
    expect(limits.maxServerMeta).toBe(128);

    const boot = await cloud.boot({ name: "web", imageId: image.id, flavorId: flavor.id, metadata: { [GROUP_KEY]: "web" }, networks: "none", count: 2 });
    expect(boot.serverIds).toHaveLength(1);
    fake.advance(2_000);
    const members = (await cloud.listServers()).filter((s) => s.metadata[GROUP_KEY] === "web");
    expect(members.map((s) => s.status)).toEqual(["ACTIVE", "ACTIVE"]);

    const marks = { "novascale:made-by": "novascale", "novascale:group": "web" };
    const imageId = await cloud.createImage(members[0]!.id, "web-nightly", marks);
    fake.advance(2_000);
    const snapshots = await cloud.listImages(marks);
    expect(snapshots.map((i) => [i.id, i.status])).toEqual([[imageId, "active"]]);
    expect((await cloud.getImage(imageId))?.properties).toMatchObject(marks);
    await cloud.deleteImage(imageId);
    fake.advance(2_000);
    expect(await cloud.getImage(imageId)).toBeNull();

    for (const s of members) await cloud.deleteServer(s.id);
    fake.advance(5_000);
    expect((await cloud.listServers()).filter((s) => s.metadata[GROUP_KEY] === "web")).toEqual([]);
  });

  it("the lower-level calls of the book on today's cloud: metadata, rename, tags, reboot, resize", async () => {
    const { fake, cloud } = connect({}, "/identity/v3");
    const nova = cloud.nova;
    const image = await cloud.resolveImage("cirros");
    const created = await nova.servers.create({ name: "ops", imageRef: image.id, flavorRef: "1", networks: "none", metadata: { role: "a" }, tags: ["web"] });
    const id = created.id!;
    fake.advance(2_000);
    expect(await nova.servers.mergeMetadata(id, { extra: "1" })).toEqual({ role: "a", extra: "1" });
    expect(await nova.servers.setMetadataItem(id, "role", "b")).toEqual({ role: "b" });
    expect(await nova.servers.metadataItem(id, "role")).toBe("b");
    await nova.servers.deleteMetadataItem(id, "extra");
    expect(await nova.servers.setMetadata(id, { only: "this" })).toEqual({ only: "this" });
    expect((await nova.servers.update(id, { name: "ops-renamed" })).name).toBe("ops-renamed");
    expect(await nova.servers.hasTag(id, "web")).toBe(true);
    await nova.servers.addTag(id, "canary");
    expect((await nova.servers.tags(id)).sort()).toEqual(["canary", "web"]);
    await nova.servers.deleteTag(id, "canary");
    expect(await nova.servers.hasTag(id, "canary")).toBe(false);
    await nova.servers.reboot(id, "HARD");
    fake.advance(5_000);
    await nova.servers.resize(id, "2");
    fake.advance(5_000);
    expect((await nova.servers.get(id)).status).toBe("VERIFY_RESIZE");
    await nova.servers.confirmResize(id);
    fake.advance(5_000);
    expect((await nova.servers.get(id)).status).toBe("ACTIVE");
  });

  it("over quota is a quota error", async () => {
    const { cloud } = connect({ quotas: { instances: 1 } }, "/identity/v3");
    const image = await cloud.resolveImage("cirros");
    await expect(cloud.boot({ name: "q", imageId: image.id, flavorId: "1", metadata: {}, networks: "none", count: 2 })).rejects.toMatchObject({ category: "quota" });
  });

  it("a revoked token is replaced transparently (one re-authentication)", async () => {
    const { cloud } = connect({}, "/identity/v3");
    await cloud.listServers();
    const { token } = await cloud.session.auth();
    await cloud.session.transport.send({ method: "DELETE", url: `${BASE}/identity/v3/auth/tokens`, headers: { "X-Auth-Token": token, "X-Subject-Token": token }, service: "identity" });
    await expect(cloud.listServers()).resolves.toEqual([]);
    expect((await cloud.session.auth()).token).not.toBe(token);
  });
});

describe("the book's cloud (Keystone v2.0, Nova v1.1)", () => {
  it("authenticates with v2.0, reads the book's catalog, and boots with URL refs and personality", async () => {
    const { fake, cloud } = connect({ mode: "book", keystoneV2Style: "book" }, "/identity/v2.0");
    const auth = await cloud.session.auth();
    expect(auth.era).toBe("v2.0");
    expect(await cloud.nova.context.endpoint()).toMatch(/\/compute\/v1\.1\/[0-9a-f]+$/);
    expect((await cloud.nova.features()).era).toBe("legacy");

    const image = await cloud.resolveImage("cirros");
    const flavor = await cloud.resolveFlavor("m1.tiny");
    const boot = await cloud.boot({ name: "tornado", imageId: image.id, flavorId: flavor.id, metadata: { [GROUP_KEY]: "web" }, networks: "auto", count: 1 });
    expect(boot.serverIds[0]).toMatch(/^\d+$/);
    const created = await cloud.nova.servers.create({ name: "with-files", imageRef: image.id, flavorRef: flavor.id, personality: [{ path: "/etc/motd", contents: "hello" }] });
    expect(created.id).toMatch(/^\d+$/);
    fake.advance(2_000);
    const servers = await cloud.listServers();
    expect(servers.map((s) => [s.name, s.status]).sort()).toEqual([["tornado", "ACTIVE"], ["with-files", "ACTIVE"]]);
    expect(await cloud.absoluteLimits()).toMatchObject({ maxServerMeta: 5, maxImageMeta: 5 });

    const snap = await cloud.createImage(boot.serverIds[0]!, "tornado-snap", { [GROUP_KEY]: "web" });
    fake.advance(2_000);
    expect((await cloud.listImages({ [GROUP_KEY]: "web" })).map((i) => [i.id, i.status])).toEqual([[snap, "active"]]);
    await cloud.deleteImage(snap);
    await cloud.deleteServer(boot.serverIds[0]!);
    await cloud.deleteServer(created.id!);
    fake.advance(5_000);
    expect(await cloud.listServers()).toEqual([]);
  });

  it("the standard v2.0 `access` answer works too", async () => {
    const { cloud } = connect({ mode: "book", keystoneV2Style: "access" }, "/identity/v2.0");
    await expect(cloud.listServers()).resolves.toEqual([]);
    expect((await cloud.session.auth()).projectId).toMatch(/^[0-9a-f]+$/);
  });

  it("a sixth metadata item is refused by the book's Nova (5 per server): a config error, not quota", async () => {
    const { cloud } = connect({ mode: "book", keystoneV2Style: "book" }, "/identity/v2.0");
    const image = await cloud.resolveImage("cirros");
    const metadata = Object.fromEntries(["a", "b", "c", "d", "e", "f"].map((k) => [k, "1"]));
    await expect(cloud.boot({ name: "m", imageId: image.id, flavorId: "1", metadata, networks: "auto", count: 1 })).rejects.toMatchObject({ category: "config", status: 403 });
  });
});
