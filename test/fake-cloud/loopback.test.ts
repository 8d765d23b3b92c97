// The emulator started by vitest globalSetup: reachable over loopback from workerd, driven by FakeCloudControl.
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { FakeCloudControl } from "./control.ts";
import { FakeSession } from "./session.ts";

const hostUrl = inject("fakeCloudUrl");
const plainFetch = (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init);

describe("the loopback fake cloud", () => {
  it("is where the worker under test is told to authenticate", async () => {
    const bindings = env as unknown as { OS_AUTH_URL: string };
    expect(bindings.OS_AUTH_URL).toBe(`${hostUrl}/identity/v3`);
    const session = await FakeSession.login(hostUrl, plainFetch);
    expect((await session.nova("GET", "/flavors")).status).toBe(200);
  });

  it("gives a test a cloud of its own whose servers others do not see", async () => {
    const control = await FakeCloudControl.isolated(hostUrl);
    await control.seedServer({ name: "not-ours", metadata: { owner: "someone else" } });
    const session = await FakeSession.login(control.url, plainFetch);
    const listed = (await session.nova("GET", "/servers")).body as { servers: Array<{ name: string }> };
    expect(listed.servers.map((s) => s.name)).toEqual(["not-ours"]);
    expect((await control.servers()).map((s) => s.name)).toEqual(["not-ours"]);
    await control.dispose();
  });

  it("moves its virtual clock on request: BUILD becomes ACTIVE", async () => {
    const control = await FakeCloudControl.isolated(hostUrl, { buildMs: 60_000 });
    const session = await FakeSession.login(control.url, plainFetch);
    const image = (await control.images()).find((i) => i.name === "cirros")?.id;
    await session.nova("POST", "/servers", { server: { name: "w", imageRef: image, flavorRef: "1", networks: "none" } });
    const before = (await control.servers())[0]?.status;
    await control.advance(60_000);
    expect([before, (await control.servers())[0]?.status]).toEqual(["BUILD", "ACTIVE"]);
    await control.dispose();
  });

  it("takes a fault over HTTP: the next boot fails with the given status", async () => {
    const control = await FakeCloudControl.isolated(hostUrl);
    await control.addFault({ kind: "bootError", status: 503, times: 1 });
    const session = await FakeSession.login(control.url, plainFetch);
    const image = (await control.images()).find((i) => i.name === "cirros")?.id;
    const res = await session.nova("POST", "/servers", { server: { name: "x", imageRef: image, flavorRef: "1", networks: "none" } });
    expect([res.status, (await control.faults())[0]?.fired]).toEqual([503, 1]);
    await control.dispose();
  });

  it("counts the API requests it served", async () => {
    const control = await FakeCloudControl.isolated(hostUrl);
    const session = await FakeSession.login(control.url, plainFetch);
    await session.nova("GET", "/servers/detail");
    expect((await control.stats()).byRoute).toEqual({ "POST /identity/v3/auth/tokens": 1, "GET /compute/v2.1/servers/detail": 1 });
    await control.dispose();
  });

  it("answers 400 with the reason for a malformed fault", async () => {
    const control = await FakeCloudControl.isolated(hostUrl);
    await expect(control.addFault({ kind: "bootError" } as never)).rejects.toThrow(/400/);
    await control.dispose();
  });
});
