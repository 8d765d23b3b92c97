// GET/POST /v1/groups/{name}/snapshots through the real worker (API -> service -> Durable Object) against the shared fake cloud.
import { describe, expect, inject, it } from "vitest";
import { GROUP_KEY, IMAGE_GROUP_KEY, IMAGE_MADE_BY_KEY } from "../../src/core/model/membership.ts";
import { createGroup, rules, send, type ApiErrorBody } from "./support.ts";

const fakeCloud = inject("fakeCloudUrl");
const NIGHTLY = { cron: "30 2 * * *", timezone: "UTC", keep: 3 };

async function seedServer(group: string | null, name: string): Promise<{ id: string }> {
  const res = await fetch(`${fakeCloud}/_fake/servers`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, metadata: group === null ? {} : { [GROUP_KEY]: group } }),
  });
  if (res.status !== 201) throw new Error(`seeding ${name}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { server: { id: string } }).server;
}

async function imagesOf(group: string): Promise<Array<{ id: string; name: string; properties: Record<string, string> }>> {
  const res = await fetch(`${fakeCloud}/_fake/images`);
  const body = (await res.json()) as { images: Array<{ id: string; name: string; properties: Record<string, string> }> };
  return body.images.filter((i) => i.properties[IMAGE_MADE_BY_KEY] === "novascale" && i.properties[IMAGE_GROUP_KEY] === group);
}

interface Taken {
  image: { id: string; name: string };
  serverId: string;
  serverName: string;
  firing: string;
  reason: string;
}

interface Listing {
  group: string;
  status: { phase: string; keep: number } | null;
  snapshots: Array<{ id: string; status: string; sourceServer: string | null }>;
}

describe("POST /v1/groups/{name}/snapshots", () => {
  it("takes a snapshot now (202) from a member, records it in the activity log with the caller as author", async () => {
    await createGroup("s-take", rules({ default: 1, max: 1, snapshots: NIGHTLY }));
    const server = await seedServer("s-take", "s-take-1");
    const res = await send<Taken>("POST", "/v1/groups/s-take/snapshots", { as: "operate" });
    expect(res.status, res.text).toBe(202);
    expect(res.body.serverId).toBe(server.id);
    expect(res.body.image.name).toMatch(/^s-take-snapshot-manual-\d{8}T\d{4,6}Z$/);
    expect((await imagesOf("s-take")).map((i) => i.id)).toEqual([res.body.image.id]);
    const activity = await send<{ entries: Array<{ kind: string; author: string; imageId?: string }> }>("GET", "/v1/groups/s-take/activity", { as: "read" });
    expect(activity.body.entries).toContainEqual(expect.objectContaining({ kind: "snapshot", author: "test-operator", imageId: res.body.image.id }));
  });

  it("answers 409 and takes nothing when the group has no ACTIVE member", async () => {
    await createGroup("s-empty", rules({ default: 0, snapshots: NIGHTLY }));
    const res = await send<ApiErrorBody>("POST", "/v1/groups/s-empty/snapshots", { as: "operate" });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
    expect(await imagesOf("s-empty")).toEqual([]);
  });

  it("refuses (409) a serverId that is not a member of the group: never snapshots a stranger", async () => {
    await createGroup("s-stranger", rules({ default: 1, max: 1, snapshots: NIGHTLY }));
    await seedServer("s-stranger", "s-stranger-1");
    const stranger = await seedServer(null, "not-ours");
    const res = await send<ApiErrorBody>("POST", "/v1/groups/s-stranger/snapshots", { as: "operate", json: { serverId: stranger.id } });
    expect(res.status).toBe(409);
    expect(await imagesOf("s-stranger")).toEqual([]);
  });

  it("is not allowed to a read-only token (403)", async () => {
    await createGroup("s-readonly", rules({ default: 1, snapshots: NIGHTLY }));
    const res = await send<ApiErrorBody>("POST", "/v1/groups/s-readonly/snapshots", { as: "read" });
    expect(res.status).toBe(403);
  });

  it("answers 404 for a group that does not exist", async () => {
    const res = await send<ApiErrorBody>("POST", "/v1/groups/s-nosuch/snapshots", { as: "operate" });
    expect(res.status).toBe(404);
  });
});

describe("POST /v1/groups/{name}/snapshots is idempotent", () => {
  it("answers the same snapshot to a retry with the same Idempotency-Key, and takes one image", async () => {
    await createGroup("s-idem", rules({ default: 1, max: 2, snapshots: NIGHTLY }));
    await seedServer("s-idem", "s-idem-1");
    await seedServer("s-idem", "s-idem-2");
    const headers = { "Idempotency-Key": "retry-1" };
    const first = await send<Taken & { replayed: string | null }>("POST", "/v1/groups/s-idem/snapshots", { as: "operate", headers });
    const again = await send<Taken & { replayed: string | null }>("POST", "/v1/groups/s-idem/snapshots", { as: "operate", headers });
    expect(first.status, first.text).toBe(202);
    expect(again.status, again.text).toBe(202);
    expect(again.body.image.id).toBe(first.body.image.id);
    expect(again.body.replayed).toContain("retry-1");
    expect(await imagesOf("s-idem")).toHaveLength(1);
  });

  it("answers 422 naming the header when the key comes back with another body", async () => {
    await createGroup("s-idem2", rules({ default: 1, max: 1, snapshots: NIGHTLY }));
    await seedServer("s-idem2", "s-idem2-1");
    const headers = { "Idempotency-Key": "retry-2" };
    await send("POST", "/v1/groups/s-idem2/snapshots", { as: "operate", headers });
    const res = await send<ApiErrorBody>("POST", "/v1/groups/s-idem2/snapshots", { as: "operate", headers, json: { force: true } });
    expect(res.status, res.text).toBe(422);
    expect(res.body.error.message).toContain("Idempotency-Key");
  });

  it("answers 400 for a malformed Idempotency-Key", async () => {
    await createGroup("s-idem3", rules({ default: 1, max: 1, snapshots: NIGHTLY }));
    const res = await send<ApiErrorBody>("POST", "/v1/groups/s-idem3/snapshots", { as: "operate", headers: { "Idempotency-Key": "has space" } });
    expect(res.status).toBe(400);
    expect(res.text).toContain("Idempotency-Key");
  });
});

describe("GET /v1/groups/{name}/snapshots", () => {
  it("lists the group's snapshots with their source and the policy's state", async () => {
    await createGroup("s-list", rules({ default: 1, max: 1, snapshots: NIGHTLY }));
    const server = await seedServer("s-list", "s-list-1");
    const taken = await send<Taken>("POST", "/v1/groups/s-list/snapshots", { as: "operate" });
    const res = await send<Listing>("GET", "/v1/groups/s-list/snapshots", { as: "read" });
    expect(res.status, res.text).toBe(200);
    expect(res.body.snapshots).toEqual([expect.objectContaining({ id: taken.body.image.id, sourceServer: server.id })]);
    expect(res.body.status?.keep).toBe(3);
  });

  it("answers status null for a group without a snapshot policy", async () => {
    await createGroup("s-nopolicy", rules({ default: 0 }));
    const res = await send<Listing>("GET", "/v1/groups/s-nopolicy/snapshots", { as: "read" });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ group: "s-nopolicy", status: null, snapshots: [] });
  });

  it("answers 404 for a group that does not exist", async () => {
    const res = await send<ApiErrorBody>("GET", "/v1/groups/s-nosuch/snapshots", { as: "read" });
    expect(res.status).toBe(404);
  });
});

describe("GET /v1/groups/{name}/plan with a snapshot policy", () => {
  it("shows the snapshot a tick at that moment would take, and takes none", async () => {
    await createGroup("s-plan", rules({ default: 1, max: 1, snapshots: NIGHTLY }));
    const server = await seedServer("s-plan", "s-plan-1");
    const res = await send<{ steps: Array<{ kind: string; serverId?: string; reason: string }> }>("GET", "/v1/groups/s-plan/plan?at=2030-06-01T02:31:00Z", { as: "read" });
    expect(res.status, res.text).toBe(200);
    expect(res.body.steps).toContainEqual(expect.objectContaining({ kind: "snapshot", serverId: server.id }));
    expect(await imagesOf("s-plan")).toEqual([]);
  });
});
