// Mode changes over servers novascale did not boot: PUT and PATCH answer 409 naming them, unless ?adopt=true (issue 24 item 2).
import { describe, expect, inject, it } from "vitest";
import { GROUP_KEY } from "../../src/core/model/membership.ts";
import { createGroup, send, type ApiErrorBody } from "./support.ts";

const fakeCloud = inject("fakeCloudUrl");

async function seedServer(group: string, name: string): Promise<{ id: string }> {
  const res = await fetch(`${fakeCloud}/_fake/servers`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, metadata: { [GROUP_KEY]: group } }),
  });
  if (res.status !== 201) throw new Error(`seeding ${name}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { server: { id: string } }).server;
}

const power = { mode: "power", max: 5 };
const elastic = { image: "cirros", flavor: "m1.tiny", max: 5, default: 1 };

describe("a mode change over servers novascale did not boot", () => {
  it("PUT power -> elastic is 409 naming the hand-tagged servers (count and ids), and changes nothing", async () => {
    const created = await createGroup("adopt-put", power);
    const server = await seedServer("adopt-put", "adopt-put-by-hand");
    const res = await send<ApiErrorBody>("PUT", "/v1/groups/adopt-put", { json: elastic });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain(server.id);
    expect(res.body.error.message).toContain("?adopt=true");
    expect(res.body.error.details).toMatchObject({ count: 1, servers: [expect.objectContaining({ id: server.id })] });
    const after = await send<{ rules: { mode: string } }>("GET", "/v1/groups/adopt-put");
    expect(after.headers.get("ETag")).toBe(created.headers.get("ETag"));
  });

  it("PUT power -> elastic with ?adopt=true is accepted and records the adoption in the activity log", async () => {
    await createGroup("adopt-put-yes", power);
    const server = await seedServer("adopt-put-yes", "adopt-put-yes-by-hand");
    const res = await send("PUT", "/v1/groups/adopt-put-yes?adopt=true", { json: elastic });
    expect(res.status).toBe(200);
    const log = await send<{ entries: Array<{ kind: string; serverIds?: string[] }> } | Array<{ kind: string; serverIds?: string[] }>>("GET", "/v1/groups/adopt-put-yes/activity");
    const entries = Array.isArray(log.body) ? log.body : log.body.entries;
    expect(entries.find((e) => e.kind === "servers-adopted")?.serverIds).toEqual([server.id]);
  });

  it("PATCH scaleIn.action stop -> delete is 409 while the group has a server it did not boot", async () => {
    const created = await createGroup("adopt-patch", { ...elastic, scaleIn: { action: "stop" } });
    const server = await seedServer("adopt-patch", "adopt-patch-by-hand");
    const res = await send<ApiErrorBody>("PATCH", "/v1/groups/adopt-patch", {
      json: { scaleIn: { action: "delete" } },
      headers: { "Content-Type": "application/merge-patch+json", "If-Match": created.headers.get("ETag") ?? "" },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.details).toMatchObject({ count: 1, servers: [expect.objectContaining({ id: server.id })] });
  });

  it("PATCH with ?adopt=true is accepted", async () => {
    const created = await createGroup("adopt-patch-yes", { ...elastic, scaleIn: { action: "stop" } });
    await seedServer("adopt-patch-yes", "adopt-patch-yes-by-hand");
    const res = await send("PATCH", "/v1/groups/adopt-patch-yes?adopt=true", {
      json: { scaleIn: { action: "delete" } },
      headers: { "Content-Type": "application/merge-patch+json", "If-Match": created.headers.get("ETag") ?? "" },
    });
    expect(res.status).toBe(200);
  });

  it("a change that deletes nothing more (elastic -> elastic, same action) needs no adoption", async () => {
    await createGroup("adopt-none", elastic);
    await seedServer("adopt-none", "adopt-none-by-hand");
    const res = await send("PUT", "/v1/groups/adopt-none", { json: { ...elastic, max: 6 } });
    expect(res.status).toBe(200);
  });
});
