// Glance v2: list by name or by our own properties (all pages), get, delete, and properties via JSON patch.
import { describe, expect, it } from "vitest";
import { createGlanceClient, imageProperties, pointer } from "../../src/openstack/glance.ts";
import zedToken from "../fixtures/real-zed/keystone-token-demo.json";
import deleteSnapshot from "../fixtures/real-zed/glance-delete-snapshot.json";
import images from "../fixtures/real-zed/glance-images.json";
import snapshot from "../fixtures/real-zed/glance-snapshot-image.json";
import { answer, json, type Responder, TEST_TOKEN } from "./support/replay.ts";
import { zedSession } from "./support/zed.ts";

const GLANCE = "http://127.0.0.1:9292/v2";
const SNAP = "be865a13-1171-4d93-83e2-fbe215b3789b";
const PATCH_TYPE = "application/openstack-images-v2.1-json-patch";

function glance(...script: Responder[]) {
  const { r, session } = zedSession([answer(zedToken), ...script]);
  return { r, glance: createGlanceClient(session) };
}

describe("reading", () => {
  it("GET /v2/images under the catalog's unversioned Glance root, with the token and no microversion", async () => {
    const { r, glance: g } = glance(answer(images));
    const list = await g.list();
    expect(r.requests[1]).toMatchObject({ method: "GET", url: `${images.request.url}?limit=1000`, headers: { "x-auth-token": TEST_TOKEN } });
    expect(r.requests[1]!.headers["openstack-api-version"]).toBeUndefined();
    expect(list.map((i) => [i.id, i.name, i.status])).toEqual([["ac2cb8ad-cbfb-4989-8915-94ce4c3565b7", "cirros-fake", "active"]]);
  });

  it("filters by our own properties as query parameters", async () => {
    const { r, glance: g } = glance(json(200, { images: [] }));
    await g.list({ "novascale:made-by": "novascale", "novascale:group": "web" });
    expect(r.requests[1]!.url).toBe(`${GLANCE}/images?novascale%3Amade-by=novascale&novascale%3Agroup=web&limit=1000`);
  });

  it("asks for Glance's largest page: 60 images cost one request, not three of Glance's default 25", async () => {
    const all = Array.from({ length: 60 }, (_, i) => ({ id: `img-${String(i).padStart(2, "0")}`, name: `n${i}`, status: "active" }));
    // Glance's paging: limit_param_default 25, api_limit_max 1000, `next` while more remain.
    const glancePage = (q: { url: string }) => {
      const url = new URL(q.url);
      const limit = Math.min(Number(url.searchParams.get("limit") ?? 25), 1000);
      const marker = url.searchParams.get("marker");
      const from = marker === null ? 0 : all.findIndex((i) => i.id === marker) + 1;
      const page = all.slice(from, from + limit);
      const more = from + limit < all.length;
      return { status: 200, body: { images: page, ...(more ? { next: `/v2/images?marker=${page.at(-1)!.id}&limit=${limit}` } : {}) } };
    };
    const { r, glance: g } = glance(glancePage, glancePage, glancePage);
    expect(await g.list()).toHaveLength(60);
    expect(r.requests).toHaveLength(2); // the token, then one listing
  });

  it("follows `next` (relative to Glance's root) keeping only its query", async () => {
    const { r, glance: g } = glance(
      json(200, { images: [{ id: "a", name: "a", status: "active" }], next: "/v2/images?marker=a&limit=1&novascale%3Agroup=web" }),
      json(200, { images: [{ id: "b", name: "b", status: "active" }], next: "/v2/images?marker=b&limit=1&novascale%3Agroup=web" }),
      json(200, { images: [] }),
    );
    expect((await g.list({ "novascale:group": "web" }, { pageSize: 1 })).map((i) => i.id)).toEqual(["a", "b"]);
    expect(r.requests.slice(1).map((q) => q.url)).toEqual([
      `${GLANCE}/images?novascale%3Agroup=web&limit=1`,
      `${GLANCE}/images?marker=a&limit=1&novascale%3Agroup=web`,
      `${GLANCE}/images?marker=b&limit=1&novascale%3Agroup=web`,
    ]);
  });

  it("get: the recorded snapshot, its status and its user properties (core fields left out)", async () => {
    const { r, glance: g } = glance(answer(snapshot));
    const image = await g.get(SNAP);
    expect(r.requests[1]).toMatchObject({ method: "GET", url: snapshot.request.url });
    expect(image.status).toBe("active");
    expect(imageProperties(image)).toEqual({
      base_image_ref: "ac2cb8ad-cbfb-4989-8915-94ce4c3565b7", owner_user_name: "demo", owner_project_name: "demo", boot_roles: "member,reader",
      instance_uuid: "20916dbd-36f9-449a-9cf3-e66e2adbbac0", user_id: "b59b3dea6eb141cfaa98fcfca3a17f3f", image_type: "snapshot",
      "autoscale-group": "web", owner_id: "bf28d8de30484b99bb097b2b31df7a61", image_state: "available", image_location: "snapshot",
    });
  });

  it("find by name asks Glance to filter by name and wants exactly one active image", async () => {
    const { r, glance: g } = glance(answer(images));
    expect((await g.find("cirros-fake")).id).toBe("ac2cb8ad-cbfb-4989-8915-94ce4c3565b7");
    expect(r.requests[1]!.url).toBe(`${GLANCE}/images?name=cirros-fake&limit=1000`);
  });

  it("find by a name nobody has: lists the images to suggest near names", async () => {
    const { r, glance: g } = glance(json(200, { images: [] }), answer(images));
    await expect(g.find("cirros")).rejects.toMatchObject({ category: "config", kind: "nameNotFound", detail: 'no image is named "cirros"; did you mean "cirros-fake"?' });
    expect(r.requests[2]!.url).toBe(`${GLANCE}/images?limit=200`);
  });

  it("an image still saving is not usable yet", async () => {
    const { glance: g } = glance(json(200, { images: [{ id: "s", name: "snap", status: "saving" }] }));
    await expect(g.find("snap")).rejects.toMatchObject({ kind: "notUsable", detail: expect.stringContaining("status saving") });
  });
});

describe("writing", () => {
  it("delete: DELETE /v2/images/{id} answers 204", async () => {
    const { r, glance: g } = glance(answer(deleteSnapshot));
    await g.delete(SNAP);
    expect(r.requests[1]).toMatchObject({ method: "DELETE", url: deleteSnapshot.request.url, headers: { "x-auth-token": TEST_TOKEN } });
  });

  it("merge properties: one PATCH of 'add' operations in the v2.1 JSON-patch media type", async () => {
    const { r, glance: g } = glance(json(200, { ...snapshot.response.body, "novascale:group": "web" }));
    await g.mergeMetadata(SNAP, { "novascale:group": "web" });
    expect(r.requests[1]).toMatchObject({ method: "PATCH", url: `${GLANCE}/images/${SNAP}`, body: [{ op: "add", path: "/novascale:group", value: "web" }] });
    expect(r.requests[1]!.headers["content-type"]).toBe(PATCH_TYPE);
  });

  it("set all: removes the user properties not given, adds the given ones", async () => {
    const small = { id: SNAP, name: "s", status: "active", size: 1, keep: "old", drop: "x" };
    const { r, glance: g } = glance(json(200, small), json(200, { id: SNAP, name: "s", status: "active", keep: "new" }));
    expect(await g.setMetadata(SNAP, { keep: "new" })).toEqual({ keep: "new" });
    expect(r.requests[2]!.body).toEqual([
      { op: "remove", path: "/drop" },
      { op: "add", path: "/keep", value: "new" },
    ]);
  });

  it("get item, set item and delete item", async () => {
    const { r, glance: g } = glance(answer(snapshot), json(200, { ...snapshot.response.body, role: "db" }), json(200, snapshot.response.body));
    expect(await g.metadataItem(SNAP, "image_type")).toBe("snapshot");
    expect(await g.setMetadataItem(SNAP, "role", "db")).toEqual({ role: "db" });
    await g.deleteMetadataItem(SNAP, "role");
    expect(r.requests.slice(2).map((q) => q.body)).toEqual([[{ op: "add", path: "/role", value: "db" }], [{ op: "remove", path: "/role" }]]);
  });

  it("deleting a property that is not there (Glance: 409) is notFound, and not retried", async () => {
    const { r, glance: g } = glance(json(409, { message: "Property role does not exist.", code: "409 Conflict", title: "Conflict" }), json(200, {}));
    await expect(g.deleteMetadataItem(SNAP, "role")).rejects.toMatchObject({ category: "notFound" });
    expect(r.remaining()).toBe(1);
  });

  it("JSON-pointer escaping of property names", () => {
    expect(pointer("a/b~c")).toBe("/a~1b~0c");
  });
});
