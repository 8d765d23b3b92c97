// Nova flavors (find by name), limits, and the image proxy (pinned to 2.35 where it is gone at the negotiated version).
import { describe, expect, it } from "vitest";
import { nearMatches } from "../../src/openstack/names.ts";
import flavorsDetail from "../fixtures/real-zed/nova-flavors-detail.json";
import flavors from "../fixtures/real-zed/nova-flavors.json";
import limits from "../fixtures/real-zed/nova-limits.json";
import proxyGone from "../fixtures/real-zed/nova-images.json";
import { answer, json, TEST_TOKEN } from "./support/replay.ts";
import { zedNova } from "./support/zed.ts";

const NOVA = "http://127.0.0.1:8774/v2.1";

describe("flavors", () => {
  it("list with details: GET /flavors/detail", async () => {
    const { r, nova } = zedNova([answer(flavorsDetail)]);
    const list = await nova.flavors.list();
    expect(r.requests[2]).toMatchObject({ method: "GET", url: `${NOVA}/flavors/detail`, headers: { "x-auth-token": TEST_TOKEN, "x-openstack-nova-api-version": "2.93" } });
    expect(list.map((f) => [f.id, f.name, f.vcpus, f.ram])).toEqual([["1", "m1.tiny", 1, 512], ["2", "m1.small", 1, 2048], ["3", "m1.medium", 2, 4096], ["4", "m1.large", 4, 8192]]);
  });

  it("list without details: GET /flavors", async () => {
    const { r, nova } = zedNova([answer(flavors)]);
    expect((await nova.flavors.list({ detail: false })).map((f) => f.name)).toEqual(["m1.tiny", "m1.small", "m1.medium", "m1.large"]);
    expect(r.requests[2]!.url).toBe(`${NOVA}/flavors`);
  });

  it("find by exact name", async () => {
    const { nova } = zedNova([answer(flavorsDetail)]);
    expect(await nova.flavors.find("m1.small")).toMatchObject({ id: "2", vcpus: 1, ram: 2048 });
  });

  it("a name that is not there: a config error that suggests the near ones", async () => {
    const { nova } = zedNova([answer(flavorsDetail)]);
    await expect(nova.flavors.find("m1.smal")).rejects.toMatchObject({ category: "config", kind: "nameNotFound", detail: 'no flavor is named "m1.smal"; did you mean "m1.small"?' });
  });

  it("names are exact: a different case is not a match, but is suggested", async () => {
    const { nova } = zedNova([answer(flavorsDetail)]);
    await expect(nova.flavors.find("M1.Tiny")).rejects.toMatchObject({ kind: "nameNotFound", detail: expect.stringContaining('"m1.tiny"') });
  });

  it("two flavors with the name: ambiguous, both ids named", async () => {
    const twice = { flavors: [{ id: "7", name: "web" }, { id: "8", name: "web" }] };
    const { nova } = zedNova([json(200, twice)]);
    await expect(nova.flavors.find("web")).rejects.toMatchObject({ kind: "ambiguousName", detail: expect.stringContaining("7, 8") });
  });

  it("a disabled flavor is not usable", async () => {
    const { nova } = zedNova([json(200, { flavors: [{ id: "9", name: "old", "OS-FLV-DISABLED:disabled": true }] })]);
    await expect(nova.flavors.find("old")).rejects.toMatchObject({ kind: "notUsable", category: "config" });
  });

  it("follows flavors_links pages", async () => {
    const { r, nova } = zedNova([
      json(200, { flavors: [{ id: "1", name: "a" }], flavors_links: [{ rel: "next", href: `${NOVA}/flavors/detail?marker=1` }] }),
      json(200, { flavors: [{ id: "2", name: "b" }] }),
    ]);
    expect((await nova.flavors.list()).map((f) => f.id)).toEqual(["1", "2"]);
    expect(r.requests[3]!.url).toBe(`${NOVA}/flavors/detail?marker=1`);
  });
});

describe("near matches", () => {
  it("puts case-only differences first, then containment, then small edits", () => {
    expect(nearMatches(["Cirros", "cirros-0.6", "ubuntu", "cirro"], "cirros")).toEqual(["Cirros", "cirro", "cirros-0.6"]);
  });
});

describe("limits", () => {
  it("GET /limits gives absolute and rate limits", async () => {
    const { r, nova } = zedNova([answer(limits)]);
    const l = await nova.limits.get();
    expect(r.requests[2]).toMatchObject({ method: "GET", url: `${NOVA}/limits` });
    expect(l.absolute).toMatchObject({ maxTotalInstances: 9, totalInstancesUsed: 9, maxTotalCores: 20, maxServerMeta: 128 });
    expect(l.rate).toEqual([]);
  });

  it("reads the book's rate limits", async () => {
    const rate = [{ uri: "*", regex: ".*", limit: [{ verb: "POST", value: 10, remaining: 2, unit: "MINUTE", "next-available": "2011-12-15T22:42:45Z" }] }];
    const { nova } = zedNova([json(200, { limits: { rate, absolute: { maxServerMeta: 5, maxImageMeta: 5, maxPersonality: 5, maxPersonalitySize: 10240 } } })]);
    const l = await nova.limits.get();
    expect(l.rate).toEqual(rate);
    expect(l.absolute["maxPersonality"]).toBe(5);
  });
});

describe("Nova's image proxy", () => {
  it("is gone at the negotiated 2.93 (recorded 404), so proxy calls are pinned to 2.35", async () => {
    expect(proxyGone.response.status).toBe(404);
    const { r, nova } = zedNova([json(200, { images: [{ id: "ac2cb8ad-cbfb-4989-8915-94ce4c3565b7", name: "cirros-fake", status: "ACTIVE", metadata: {} }] })]);
    const images = await nova.images.list();
    expect(r.requests[2]).toMatchObject({ url: `${NOVA}/images/detail`, headers: { "x-openstack-nova-api-version": "2.35", "openstack-api-version": "compute 2.35" } });
    expect(images[0]!.name).toBe("cirros-fake");
  });

  it("at 2.30 the negotiated version is kept", async () => {
    const { r, nova } = zedNova([json(200, { images: [] })], { range: { min: "2.1", max: "2.30" } });
    await nova.images.list();
    expect(r.requests[2]!.headers["x-openstack-nova-api-version"]).toBe("2.30");
  });

  it("get, delete and the six metadata calls use /images/{id}[/metadata[/{key}]]", async () => {
    const id = "ac2cb8ad";
    const { r, nova } = zedNova([
      json(200, { image: { id, name: "x", status: "ACTIVE" } }),
      json(200, { metadata: { a: "1" } }),
      json(200, { meta: { a: "1" } }),
      json(200, { metadata: { b: "2" } }),
      json(200, { metadata: { a: "1", b: "2" } }),
      json(200, { meta: { c: "3" } }),
      { status: 204 },
      { status: 204 },
    ]);
    await nova.images.get(id);
    expect(await nova.images.metadata(id)).toEqual({ a: "1" });
    expect(await nova.images.metadataItem(id, "a")).toBe("1");
    await nova.images.setMetadata(id, { b: "2" });
    await nova.images.mergeMetadata(id, { a: "1" });
    await nova.images.setMetadataItem(id, "c", "3");
    await nova.images.deleteMetadataItem(id, "c");
    await nova.images.delete(id);
    expect(r.requests.slice(2).map((q) => [q.method, q.url.replace(NOVA, ""), q.body])).toEqual([
      ["GET", `/images/${id}`, undefined],
      ["GET", `/images/${id}/metadata`, undefined],
      ["GET", `/images/${id}/metadata/a`, undefined],
      ["PUT", `/images/${id}/metadata`, { metadata: { b: "2" } }],
      ["POST", `/images/${id}/metadata`, { metadata: { a: "1" } }],
      ["PUT", `/images/${id}/metadata/c`, { meta: { c: "3" } }],
      ["DELETE", `/images/${id}/metadata/c`, undefined],
      ["DELETE", `/images/${id}`, undefined],
    ]);
  });

  it("find by name wants an ACTIVE image", async () => {
    const { nova } = zedNova([json(200, { images: [{ id: "5", name: "snap", status: "SAVING" }] })]);
    await expect(nova.images.find("snap")).rejects.toMatchObject({ kind: "notUsable", detail: expect.stringContaining("SAVING") });
  });
});
