// Client conformance against the real Nova/Glance: microversion negotiation, flavors and images by name, limits.
import { describe, expect, it } from "vitest";
import { MAX_SUPPORTED_MICROVERSION, OpenStackError } from "../../../src/openstack/index.ts";
import { failure, openCloud, rawCloud } from "./cloud.ts";

/** The compute root document's v2.1 entry, read without the client. */
async function cloudMaxMicroversion(): Promise<{ major: number; minor: number }> {
  const raw = await rawCloud();
  const root = await raw.call("GET", raw.computeUrl.replace(/\/v2\.1$/, "/"));
  const v21 = (root.body as { versions: Array<{ id: string; version: string }> }).versions.find((v) => v.id === "v2.1");
  const [major, minor] = (v21?.version ?? "").split(".").map(Number);
  return { major: major ?? 0, minor: minor ?? 0 };
}

describe("compute microversion negotiation", () => {
  it("'auto' settles on the highest microversion both the client and this Nova support", async () => {
    const max = await cloudMaxMicroversion();
    const expected = max.minor < MAX_SUPPORTED_MICROVERSION.minor ? max : MAX_SUPPORTED_MICROVERSION;
    const features = await openCloud().nova.features();
    expect(features.era).toBe("microversions");
    expect(features.version).toEqual(expected);
    expect(features.header).toBe(`${expected.major}.${expected.minor}`);
  });

  it("at the negotiated version Nova takes tags, needs networks, answers createImage with a body and has no image proxy", async () => {
    const features = await openCloud().nova.features();
    expect(features).toMatchObject({ serverTags: true, networksRequired: true, createImageIdInBody: true, tagsAtBoot: true, imageProxy: false });
  });

  it("a pinned 2.1 is sent as asked, and then the old rules apply (no tags, networks optional, image proxy present)", async () => {
    const features = await openCloud({ microversion: "2.1" }).nova.features();
    expect(features.header).toBe("2.1");
    expect(features).toMatchObject({ serverTags: false, networksRequired: false, createImageIdInBody: false, imageProxy: true });
  });

  it("Nova echoes the negotiated microversion on a real call", async () => {
    const cloud = openCloud({ microversion: "2.60" });
    const raw = await rawCloud();
    const res = await raw.call("GET", "/flavors", undefined, { "X-OpenStack-Nova-API-Version": "2.60" });
    expect(res.headers.get("openstack-api-version")).toBe("compute 2.60");
    expect((await cloud.nova.features()).header).toBe("2.60");
    expect((await cloud.nova.flavors.list()).length).toBeGreaterThan(0);
  });
});

describe("flavors and images by name", () => {
  it("resolves the flavor m1.tiny to its id, vCPUs and RAM", async () => {
    expect(await openCloud().resolveFlavor("m1.tiny")).toEqual({ id: "1", name: "m1.tiny", vcpus: 1, ramMB: 512 });
  });

  it("resolves a flavor given by id", async () => {
    expect((await openCloud().resolveFlavor({ id: "2" })).name).toBe("m1.small");
  });

  it("lists all four seeded flavors, with details", async () => {
    const flavors = await openCloud().nova.flavors.list({ detail: true });
    expect(flavors.map((f) => f.name).sort()).toEqual(expect.arrayContaining(["m1.large", "m1.medium", "m1.small", "m1.tiny"]));
    expect(flavors.find((f) => f.name === "m1.medium")?.vcpus).toBe(2);
  });

  it("resolves the image cirros-fake through Glance v2 to the id Glance reports", async () => {
    const raw = await rawCloud();
    const listed = await raw.call("GET", `${raw.imageUrl}/v2/images?name=cirros-fake`);
    const id = (listed.body as { images: Array<{ id: string }> }).images[0]?.id;
    expect(await openCloud().resolveImage("cirros-fake")).toEqual({ id, name: "cirros-fake" });
    expect((await openCloud().resolveImage({ id: id! })).name).toBe("cirros-fake");
  });

  it("finds the same image through Nova's image proxy when pinned below 2.36", async () => {
    const image = await openCloud({ microversion: "2.35" }).nova.images.find("cirros-fake");
    expect(image.status?.toUpperCase()).toBe("ACTIVE");
  });

  it("an unknown flavor name is a config error that names it", async () => {
    const error = await failure(openCloud().resolveFlavor("m1.no-such-flavor"));
    expect(error).toBeInstanceOf(OpenStackError);
    expect((error as OpenStackError).category).toBe("config");
    expect((error as OpenStackError).message).toContain("m1.no-such-flavor");
  });

  it("an unknown image name is a config error that names it", async () => {
    const error = await failure(openCloud().resolveImage("no-such-image"));
    expect((error as OpenStackError).category).toBe("config");
    expect((error as OpenStackError).message).toContain("no-such-image");
  });

  it("an unknown flavor id is not found (404)", async () => {
    const error = await failure(openCloud().nova.flavors.get("no-such-flavor-id"));
    expect((error as OpenStackError).status).toBe(404);
    expect((error as OpenStackError).category).toBe("notFound");
  });
});

describe("limits", () => {
  it("absolute limits match what Nova's /limits says for the demo project", async () => {
    const raw = await rawCloud();
    const res = await raw.call("GET", "/limits");
    const absolute = (res.body as { limits: { absolute: Record<string, number> } }).limits.absolute;
    const limits = await openCloud().absoluteLimits();
    expect(limits.maxTotalInstances).toBe(absolute.maxTotalInstances);
    expect(limits.maxTotalCores).toBe(absolute.maxTotalCores);
    expect(limits.maxTotalRAMSize).toBe(absolute.maxTotalRAMSize);
    expect(limits.totalInstancesUsed).toBe(absolute.totalInstancesUsed);
    expect(limits.maxServerMeta).toBe(absolute.maxServerMeta);
  });

  it("the raw limits call answers absolute limits and an empty rate list on a modern Nova", async () => {
    const { absolute, rate } = await openCloud().nova.limits.get();
    expect(absolute.maxTotalInstances).toBeGreaterThan(0);
    expect(rate).toEqual([]);
  });
});
