// The fake cloud's Nova rules: clock-driven lifecycles, multi-create, quotas, validation, paging, filters, actions.
import { describe, expect, it } from "vitest";
import { boot, cirrosId, freshCloud, obj, statusOf } from "./testing.ts";

describe("clock and server lifecycle", () => {
  it("keeps a new server in BUILD until buildMs has passed on the virtual clock, then makes it ACTIVE", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 30_000 });
    await boot(cloud, s, "web-a");
    cloud.advance(29_999);
    expect(statusOf(cloud, "web-a")).toBe("BUILD");
    cloud.advance(1);
    expect(statusOf(cloud, "web-a")).toBe("ACTIVE");
  });

  it("does not move the manual clock by itself", async () => {
    const { cloud } = await freshCloud();
    const before = cloud.now();
    await new Promise((r) => setTimeout(r, 5));
    expect(cloud.now()).toBe(before);
  });

  it("refuses to move the clock backwards", async () => {
    const { cloud } = await freshCloud();
    expect(() => cloud.setTime("2020-01-01T00:00:00Z")).toThrow(RangeError);
  });

  it("shows a deleted server with task_state deleting until deleteMs has passed, then 404", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, deleteMs: 10_000 });
    const id = obj(await boot(cloud, s, "web-d")).server.id as string;
    expect((await s.nova("DELETE", `/servers/${id}`)).status).toBe(204);
    const during = obj(await s.nova("GET", `/servers/${id}`));
    expect(during.server["OS-EXT-STS:task_state"]).toBe("deleting");
    cloud.advance(10_000);
    const after = await s.nova("GET", `/servers/${id}`);
    expect(after.status).toBe(404);
    expect(obj(after).itemNotFound.message).toBe(`Instance ${id} could not be found.`);
  });

  it("counts a server that is being deleted toward quota until it is gone", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, deleteMs: 10_000, quotas: { instances: 1 } });
    const id = obj(await boot(cloud, s, "only")).server.id as string;
    await s.nova("DELETE", `/servers/${id}`);
    expect((await boot(cloud, s, "second")).status).toBe(403);
    cloud.advance(10_000);
    expect((await boot(cloud, s, "second")).status).toBe(202);
  });
});

describe("multi-create", () => {
  it("names servers name-1, name-2 ... and shares one reservation id", async () => {
    const { cloud, s } = await freshCloud();
    const res = await boot(cloud, s, "web", { min_count: 3, max_count: 3, return_reservation_id: true });
    expect(res.status).toBe(202);
    const reservation = obj(res).reservation_id as string;
    expect(reservation).toMatch(/^r-[a-z0-9]{8}$/);
    const listed = obj(await s.nova("GET", `/servers/detail?reservation_id=${reservation}`)).servers as Array<{ name: string }>;
    expect(listed.map((x) => x.name).sort()).toEqual(["web-1", "web-2", "web-3"]);
  });

  it("answers the first server and a Location header without return_reservation_id", async () => {
    const { cloud, s } = await freshCloud();
    const res = await boot(cloud, s, "web", { min_count: 2, max_count: 2 });
    const id = obj(res).server.id as string;
    expect(res.headers.get("Location")).toBe(`http://fake-cloud.test/compute/v2.1/servers/${id}`);
    expect(cloud.servers.get(id)?.name).toBe("web-1");
  });

  it("boots as many as fit when max_count exceeds the quota but min_count fits", async () => {
    const { cloud, s } = await freshCloud({ quotas: { instances: 3 } });
    const res = await boot(cloud, s, "web", { min_count: 1, max_count: 5 });
    expect(res.status).toBe(202);
    expect(cloud.servers.size).toBe(3);
  });
});

describe("quotas and validation", () => {
  it("answers 403 forbidden with Nova's words when the instance quota is used up", async () => {
    const { cloud, s } = await freshCloud({ quotas: { instances: 8 } });
    await boot(cloud, s, "web", { min_count: 8, max_count: 8 });
    const res = await boot(cloud, s, "one-more");
    expect(res.status).toBe(403);
    expect(obj(res)).toEqual({ forbidden: { code: 403, message: "Quota exceeded for instances: Requested 1, but already used 8 of 8 instances" } });
  });

  it("checks cores and RAM as well as instances", async () => {
    const { cloud, s } = await freshCloud({ quotas: { cores: 4 } });
    const res = await boot(cloud, s, "big", { flavorRef: "4", min_count: 2, max_count: 2 });
    expect(res.status).toBe(403);
    expect(obj(res).forbidden.message).toBe("Quota exceeded for cores: Requested 8, but already used 0 of 4 cores");
  });

  it("reports limits and usage in /limits", async () => {
    const { cloud, s } = await freshCloud();
    await boot(cloud, s, "web", { flavorRef: "3" });
    const absolute = obj(await s.nova("GET", "/limits")).limits.absolute;
    expect(absolute).toMatchObject({ maxTotalInstances: 10, maxTotalCores: 20, maxTotalRAMSize: 51200, maxServerMeta: 128, totalInstancesUsed: 1, totalCoresUsed: 2, totalRAMUsed: 4096 });
  });

  it("allows 128 metadata items on a modern cloud and refuses the 129th with 403", async () => {
    const { cloud, s } = await freshCloud();
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));
    expect((await boot(cloud, s, "ok", { metadata: many(128) })).status).toBe(202);
    const res = await boot(cloud, s, "too-many", { metadata: many(129) });
    expect(res.status).toBe(403);
    expect(obj(res).forbidden.message).toBe("Maximum number of metadata items exceeds 128");
  });

  it("allows only 5 metadata items per server in book mode", async () => {
    const { cloud, s } = await freshCloud({ mode: "book" });
    const res = await boot(cloud, s, "six", { networks: undefined, metadata: { a: "1", b: "2", c: "3", d: "4", e: "5", f: "6" } }, "2.1");
    expect(res.status).toBe(403);
  });

  it("answers 400 badRequest for an unknown image", async () => {
    const { cloud, s } = await freshCloud();
    const res = await boot(cloud, s, "bad", { imageRef: "00000000-0000-0000-0000-000000000000" });
    expect(res.status).toBe(400);
    expect(obj(res)).toEqual({ badRequest: { code: 400, message: "Can not find requested image" } });
  });

  it("answers 400 badRequest for an unknown flavor", async () => {
    const { cloud, s } = await freshCloud();
    const res = await boot(cloud, s, "bad", { flavorRef: "no-such-flavor" });
    expect(obj(res)).toEqual({ badRequest: { code: 400, message: "Flavor no-such-flavor could not be found." } });
  });

  it("requires networks from microversion 2.37", async () => {
    const { cloud, s } = await freshCloud();
    const body = { server: { name: "n", imageRef: cirrosId(cloud), flavorRef: "1" } };
    expect((await s.nova("POST", "/servers", body, "2.37")).status).toBe(400);
    expect((await s.nova("POST", "/servers", body, "2.36")).status).toBe(202);
  });

  it("answers 400 for an unknown key pair when the cloud lists its key pairs", async () => {
    const { cloud, s } = await freshCloud({ keypairs: ["ops"] });
    const [known, unknown] = [await boot(cloud, s, "k1", { key_name: "ops" }), await boot(cloud, s, "k2", { key_name: "nope" })];
    expect([known.status, obj(unknown)]).toEqual([202, { badRequest: { code: 400, message: "Invalid key_name provided." } }]);
  });

  it("refuses networks auto when the cloud has no auto-allocated network", async () => {
    const { cloud, s } = await freshCloud({ autoAllocateNetwork: false });
    const res = await boot(cloud, s, "auto", { networks: "auto" });
    expect(obj(res).badRequest.message).toMatch(/^Unable to automatically allocate a network for project [0-9a-f]{32}$/);
  });
});

describe("microversions", () => {
  it("answers with the highest version (2.93) for `latest`", async () => {
    const { s } = await freshCloud();
    const res = await s.nova("GET", "/flavors", undefined, "latest");
    expect(res.headers.get("OpenStack-API-Version")).toBe("compute 2.93");
  });

  it("rejects `2.latest` with 400", async () => {
    const { s } = await freshCloud();
    expect((await s.nova("GET", "/flavors", undefined, "2.latest")).status).toBe(400);
  });

  it("rejects a version above the maximum with 406", async () => {
    const { s } = await freshCloud();
    expect((await s.nova("GET", "/flavors", undefined, "2.94")).status).toBe(406);
  });

  it("uses 2.1 when no version is asked for: flavor as an id with links", async () => {
    const { cloud, s } = await freshCloud();
    const id = obj(await boot(cloud, s, "v21", {}, "2.93")).server.id as string;
    const res = await s.call("GET", `/compute/v2.1/servers/${id}`);
    expect(res.headers.get("OpenStack-API-Version")).toBe("compute 2.1");
    expect(obj(res).server.flavor.id).toBe("1");
  });

  it("embeds the flavor from 2.47", async () => {
    const { cloud, s } = await freshCloud();
    const id = obj(await boot(cloud, s, "v247")).server.id as string;
    expect(obj(await s.nova("GET", `/servers/${id}`, undefined, "2.47")).server.flavor.original_name).toBe("m1.tiny");
  });

  it("removes Nova's image proxy from 2.36", async () => {
    const { s } = await freshCloud();
    expect((await s.nova("GET", "/images", undefined, "2.36")).status).toBe(404);
    expect((await s.nova("GET", "/images", undefined, "2.35")).status).toBe(200);
  });
});

describe("paging and filters", () => {
  it("pages /servers/detail with limit and marker and a next link, each server once", async () => {
    const { cloud, s } = await freshCloud();
    await boot(cloud, s, "p", { min_count: 5, max_count: 5 });
    const first = obj(await s.nova("GET", "/servers/detail?limit=2"));
    expect(first.servers).toHaveLength(2);
    const next = new URL(first.servers_links[0].href as string);
    const second = obj(await s.call("GET", `${next.pathname}${next.search}`, undefined, "latest"));
    const third = obj(await s.nova("GET", `/servers/detail?limit=2&marker=${second.servers[1].id as string}`));
    const names = [...first.servers, ...second.servers, ...third.servers].map((x: { name: string }) => x.name);
    expect(names.sort()).toEqual(["p-1", "p-2", "p-3", "p-4", "p-5"]);
  });

  it("answers 400 for a marker that does not exist", async () => {
    const { s } = await freshCloud();
    expect((await s.nova("GET", "/servers/detail?marker=nope")).status).toBe(400);
  });

  it("filters by name as a regular expression", async () => {
    const { cloud, s } = await freshCloud();
    await boot(cloud, s, "web", { min_count: 2, max_count: 2 });
    await boot(cloud, s, "db");
    const names = (obj(await s.nova("GET", "/servers?name=%5Eweb")).servers as Array<{ name: string }>).map((x) => x.name).sort();
    expect(names).toEqual(["web-1", "web-2"]);
  });

  it("filters by status", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 1000 });
    await boot(cloud, s, "early");
    cloud.advance(1000);
    await boot(cloud, s, "late");
    const names = (obj(await s.nova("GET", "/servers/detail?status=BUILD")).servers as Array<{ name: string }>).map((x) => x.name);
    expect(names).toEqual(["late"]);
  });

  it("lists newer servers first", async () => {
    const { cloud, s } = await freshCloud();
    await boot(cloud, s, "older");
    cloud.advance(1000);
    await boot(cloud, s, "newer");
    expect((obj(await s.nova("GET", "/servers")).servers as Array<{ name: string }>).map((x) => x.name)).toEqual(["newer", "older"]);
  });

  it("filters by tags (all of them) and tags-any", async () => {
    const { cloud, s } = await freshCloud();
    await boot(cloud, s, "a", { tags: ["web", "canary"] });
    await boot(cloud, s, "b", { tags: ["web"] });
    const all = (obj(await s.nova("GET", "/servers?tags=web,canary")).servers as Array<{ name: string }>).map((x) => x.name);
    const any = (obj(await s.nova("GET", "/servers?tags-any=canary,nope")).servers as Array<{ name: string }>).map((x) => x.name);
    expect([all, any]).toEqual([["a"], ["a"]]);
  });

  it("ignores a metadata filter from a non-admin, like real Nova", async () => {
    const { cloud, s } = await freshCloud();
    await boot(cloud, s, "tagged");
    await boot(cloud, s, "other", { metadata: {} });
    const listed = obj(await s.nova("GET", `/servers/detail?metadata=${encodeURIComponent('{"novascale:group":"web"}')}`)).servers;
    expect(listed).toHaveLength(2);
  });
});

describe("metadata and tags endpoints", () => {
  it("merges on POST, replaces on PUT, and deletes one key", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = obj(await boot(cloud, s, "m")).server.id as string;
    await s.nova("POST", `/servers/${id}/metadata`, { metadata: { role: "frontend" } });
    await s.nova("PUT", `/servers/${id}/metadata/role`, { meta: { role: "backend" } });
    expect(obj(await s.nova("GET", `/servers/${id}/metadata`)).metadata).toEqual({ "novascale:group": "web", role: "backend" });
    await s.nova("DELETE", `/servers/${id}/metadata/role`);
    expect((await s.nova("GET", `/servers/${id}/metadata/role`)).status).toBe(404);
    await s.nova("PUT", `/servers/${id}/metadata`, { metadata: { only: "this" } });
    expect(obj(await s.nova("GET", `/servers/${id}/metadata`)).metadata).toEqual({ only: "this" });
  });

  it("adds a tag with 201 and answers 204 when it is already there", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = obj(await boot(cloud, s, "t")).server.id as string;
    expect((await s.nova("PUT", `/servers/${id}/tags/web`)).status).toBe(201);
    expect((await s.nova("PUT", `/servers/${id}/tags/web`)).status).toBe(204);
    expect(obj(await s.nova("PUT", `/servers/${id}/tags`, { tags: ["web", "canary"] })).tags).toEqual(["canary", "web"]);
  });
});

describe("server actions", () => {
  it("reboots through REBOOT back to ACTIVE", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, actionMs: 2000 });
    const id = obj(await boot(cloud, s, "r")).server.id as string;
    expect((await s.nova("POST", `/servers/${id}/action`, { reboot: { type: "SOFT" } })).status).toBe(202);
    expect(statusOf(cloud, "r")).toBe("REBOOT");
    cloud.advance(2000);
    expect(statusOf(cloud, "r")).toBe("ACTIVE");
  });

  it("refuses to reboot a server in BUILD with 409", async () => {
    const { cloud, s } = await freshCloud();
    const id = obj(await boot(cloud, s, "b")).server.id as string;
    const res = await s.nova("POST", `/servers/${id}/action`, { reboot: { type: "SOFT" } });
    expect(res.status).toBe(409);
    expect(obj(res).conflictingRequest.message).toContain("Cannot 'reboot' instance");
  });

  it("resizes to VERIFY_RESIZE and keeps the new flavor on confirm", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, actionMs: 0 });
    const id = obj(await boot(cloud, s, "z")).server.id as string;
    await s.nova("POST", `/servers/${id}/action`, { resize: { flavorRef: "2" } });
    expect(statusOf(cloud, "z")).toBe("VERIFY_RESIZE");
    expect((await s.nova("POST", `/servers/${id}/action`, { confirmResize: null })).status).toBe(204);
    expect(cloud.servers.get(id)?.flavorId).toBe("2");
    expect(statusOf(cloud, "z")).toBe("ACTIVE");
  });

  it("goes back to the old flavor on revertResize", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, actionMs: 0 });
    const id = obj(await boot(cloud, s, "z")).server.id as string;
    await s.nova("POST", `/servers/${id}/action`, { resize: { flavorRef: "2" } });
    await s.nova("POST", `/servers/${id}/action`, { revertResize: null });
    expect(cloud.servers.get(id)?.flavorId).toBe("1");
  });

  it("rebuilds with a new name and answers the server with adminPass", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = obj(await boot(cloud, s, "old")).server.id as string;
    const res = await s.nova("POST", `/servers/${id}/action`, { rebuild: { imageRef: cirrosId(cloud), name: "new" } });
    expect([res.status, obj(res).server.name, obj(res).server.status, typeof obj(res).server.adminPass]).toEqual([202, "new", "REBUILD", "string"]);
  });

  it("changes the admin password with 202", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = obj(await boot(cloud, s, "p")).server.id as string;
    expect((await s.nova("POST", `/servers/${id}/action`, { changePassword: { adminPass: "n3w-Secret" } })).status).toBe(202);
    expect(cloud.servers.get(id)?.adminPass).toBe("n3w-Secret");
  });

  it("answers createImage with image_id in the body from 2.45", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = obj(await boot(cloud, s, "snap")).server.id as string;
    const res = await s.nova("POST", `/servers/${id}/action`, { createImage: { name: "snap-1" } }, "2.45");
    expect(cloud.images.has(obj(res).image_id as string)).toBe(true);
  });

  it("answers createImage with the image URL in Location before 2.45", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0 });
    const id = obj(await boot(cloud, s, "snap")).server.id as string;
    const res = await s.nova("POST", `/servers/${id}/action`, { createImage: { name: "snap-1" } }, "2.44");
    const imageId = (res.headers.get("Location") ?? "").split("/").pop() ?? "";
    expect([res.status, res.body, cloud.images.has(imageId)]).toEqual([202, null, true]);
  });

  it("takes a snapshot through queued and saving to active, carrying the metadata given", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 9000 });
    const id = obj(await boot(cloud, s, "snap")).server.id as string;
    const imageId = obj(await s.nova("POST", `/servers/${id}/action`, { createImage: { name: "nightly", metadata: { "novascale:group": "web" } } })).image_id as string;
    const seen = [obj(await s.glance("GET", `/images/${imageId}`)).status];
    cloud.advance(3000);
    seen.push(obj(await s.glance("GET", `/images/${imageId}`)).status);
    cloud.advance(6000);
    const done = obj(await s.glance("GET", `/images/${imageId}`));
    seen.push(done.status);
    expect(seen).toEqual(["queued", "saving", "active"]);
    expect([done["novascale:group"], done.instance_uuid, done.image_type]).toEqual(["web", id, "snapshot"]);
  });
});

describe("reset", () => {
  it("forgets servers and keeps the options it was made with unless told otherwise", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 123 });
    await boot(cloud, s, "x");
    cloud.reset({ seed: 9 });
    expect([cloud.servers.size, cloud.options.buildMs, cloud.options.seed]).toEqual([0, 123, 9]);
  });
});
