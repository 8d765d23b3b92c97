// The fake cloud's injectable faults (mimic-style): each fault does what it says, and only that.
import { describe, expect, it } from "vitest";
import { FakeSession } from "./session.ts";
import { BASE, boot, freshCloud, obj, statusOf } from "./testing.ts";

describe("boot faults", () => {
  it("bootError answers the given status and creates nothing", async () => {
    const { cloud, s } = await freshCloud();
    cloud.addFault({ kind: "bootError", status: 503 });
    const res = await boot(cloud, s, "x");
    expect([res.status, Object.keys(obj(res))[0], cloud.servers.size]).toEqual([503, "serviceUnavailable", 0]);
  });

  it("bootError with times: 1 fails only the first boot", async () => {
    const { cloud, s } = await freshCloud();
    cloud.addFault({ kind: "bootError", status: 500, times: 1 });
    expect((await boot(cloud, s, "x")).status).toBe(500);
    expect((await boot(cloud, s, "x")).status).toBe(202);
  });

  it("bootError applies only to servers whose name matches serverName", async () => {
    const { cloud, s } = await freshCloud();
    cloud.addFault({ kind: "bootError", status: 500, serverName: "^db" });
    expect((await boot(cloud, s, "web")).status).toBe(202);
    expect((await boot(cloud, s, "db")).status).toBe(500);
  });

  it("bootError waits for a valid boot: Nova's own validation answers first", async () => {
    const { cloud, s } = await freshCloud();
    cloud.addFault({ kind: "bootError", status: 503, times: 1 });
    const invalid = await boot(cloud, s, "x", { flavorRef: "no-such-flavor" });
    const valid = await boot(cloud, s, "x");
    expect([invalid.status, valid.status]).toEqual([400, 503]);
  });

  it("bootFalseNegative answers 500 but the server exists", async () => {
    const { cloud, s } = await freshCloud();
    cloud.addFault({ kind: "bootFalseNegative", times: 1 });
    const res = await boot(cloud, s, "ghost");
    expect(res.status).toBe(500);
    expect(statusOf(cloud, "ghost")).toBe("BUILD");
  });

  it("lateRegistration answers 504 but creates the server, which the API lists only delayMs later", async () => {
    const { cloud, s } = await freshCloud();
    cloud.addFault({ kind: "lateRegistration", delayMs: 2000, times: 1 });
    const res = await boot(cloud, s, "late");
    const listed = async () => (obj(await s.nova("GET", "/servers")).servers as Array<{ name: string }>).map((x) => x.name);
    expect([res.status, cloud.servers.size, await listed()]).toEqual([504, 1, []]);
    cloud.advance(2000);
    expect(await listed()).toEqual(["late"]);
  });

  it("stuckBuild keeps the server in BUILD forever", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 1000 });
    cloud.addFault({ kind: "stuckBuild", times: 1 });
    await boot(cloud, s, "stuck");
    await boot(cloud, s, "fine");
    cloud.advance(24 * 3_600_000);
    expect([statusOf(cloud, "stuck"), statusOf(cloud, "fine")]).toEqual(["BUILD", "ACTIVE"]);
  });

  it("errorAfterActive makes the server ACTIVE, then ERROR afterMs later, with a fault", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 1000 });
    cloud.addFault({ kind: "errorAfterActive", afterMs: 60_000 });
    const id = obj(await boot(cloud, s, "flaky")).server.id as string;
    cloud.advance(1000);
    expect(statusOf(cloud, "flaky")).toBe("ACTIVE");
    cloud.advance(60_000);
    const server = obj(await s.nova("GET", `/servers/${id}`)).server;
    expect([server.status, typeof server.fault.message]).toEqual(["ERROR", "string"]);
  });
});

describe("delete and snapshot faults", () => {
  it("deleteFails answers 500 N times, then the delete goes through", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, deleteMs: 0 });
    const id = obj(await boot(cloud, s, "sticky")).server.id as string;
    cloud.addFault({ kind: "deleteFails", times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await s.nova("DELETE", `/servers/${id}`)).status);
    expect(statuses).toEqual([500, 500, 204]);
    expect(cloud.servers.has(id)).toBe(false);
  });

  it("snapshotKilled ends the image `killed` instead of `active`", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 1000 });
    const id = obj(await boot(cloud, s, "src")).server.id as string;
    cloud.addFault({ kind: "snapshotKilled", times: 1 });
    const imageId = obj(await s.nova("POST", `/servers/${id}/action`, { createImage: { name: "snap" } })).image_id as string;
    cloud.advance(1000);
    expect(obj(await s.glance("GET", `/images/${imageId}`)).status).toBe("killed");
  });

  it("snapshotStuck leaves the image `saving` for ever, the server's task cleared", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 1000 });
    const id = obj(await boot(cloud, s, "src")).server.id as string;
    cloud.addFault({ kind: "snapshotStuck", times: 1 });
    const imageId = obj(await s.nova("POST", `/servers/${id}/action`, { createImage: { name: "snap" } })).image_id as string;
    cloud.advance(30 * 60_000);
    expect(obj(await s.glance("GET", `/images/${imageId}`)).status).toBe("saving");
    expect(cloud.servers.get(id)?.taskState).toBeNull();
  });

  it("snapshotRefused answers its status and creates no image", async () => {
    const { cloud, s } = await freshCloud({ buildMs: 0, snapshotMs: 1000 });
    const id = obj(await boot(cloud, s, "src")).server.id as string;
    const before = cloud.images.size;
    cloud.addFault({ kind: "snapshotRefused", times: 1 });
    cloud.addFault({ kind: "snapshotRefused", status: 500, times: 1 });
    expect((await s.nova("POST", `/servers/${id}/action`, { createImage: { name: "snap" } })).status).toBe(409);
    expect((await s.nova("POST", `/servers/${id}/action`, { createImage: { name: "snap" } })).status).toBe(500);
    expect(cloud.images.size).toBe(before);
    expect((await s.nova("POST", `/servers/${id}/action`, { createImage: { name: "snap" } })).status).toBe(202);
  });
});

describe("request faults", () => {
  it("randomErrors fails about `rate` of matching requests", async () => {
    const { cloud, s } = await freshCloud();
    cloud.addFault({ kind: "randomErrors", rate: 0.3, statuses: [500, 503], service: "compute" });
    let failed = 0;
    for (let i = 0; i < 200; i++) if ((await s.nova("GET", "/flavors")).status >= 500) failed++;
    expect(failed).toBeGreaterThan(30);
    expect(failed).toBeLessThan(90);
  });

  it("randomErrors repeats the same sequence for the same seed", async () => {
    const run = async () => {
      const { cloud, s } = await freshCloud();
      cloud.addFault({ kind: "randomErrors", rate: 0.5, seed: 99, service: "compute" });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push((await s.nova("GET", "/flavors")).status);
      return out;
    };
    expect(await run()).toEqual(await run());
  });

  it("randomErrors with 429 carries Retry-After", async () => {
    const { cloud, s } = await freshCloud();
    cloud.addFault({ kind: "randomErrors", rate: 1, statuses: [429], retryAfterSeconds: 7, service: "compute" });
    const res = await s.nova("GET", "/servers");
    expect([res.status, res.headers.get("Retry-After"), Object.keys(obj(res))[0]]).toEqual([429, "7", "overLimit"]);
  });

  it("randomErrors leaves other services alone", async () => {
    const { cloud, s } = await freshCloud();
    cloud.addFault({ kind: "randomErrors", rate: 1, service: "compute" });
    expect((await s.glance("GET", "/images")).status).toBe(200);
  });

  it("a slow fault delays but does not change the answer", async () => {
    const { cloud, s } = await freshCloud();
    cloud.addFault({ kind: "slow", delayMs: 1, service: "compute", times: 1 });
    expect((await s.nova("GET", "/flavors")).status).toBe(200);
    expect(cloud.listFaults()[0]?.fired).toBe(1);
  });

  it("removing a fault stops it", async () => {
    const { cloud, s } = await freshCloud();
    const id = cloud.addFault({ kind: "bootError", status: 500 });
    cloud.removeFault(id);
    expect((await boot(cloud, s, "x")).status).toBe(202);
  });

  it("rejects a serverName that is not a regular expression when the fault is added", async () => {
    const { cloud } = await freshCloud();
    expect(() => cloud.addFault({ kind: "stuckBuild", serverName: "web(" })).toThrow(/regular expression/);
  });

  it("rejects a fault it does not know", async () => {
    const { cloud } = await freshCloud();
    expect(() => cloud.addFault({ kind: "meteorStrike" } as never)).toThrow();
  });
});

describe("faults for a whole run", () => {
  it("applies faults given in the options from the start, and again after a reset", async () => {
    const { cloud, s } = await freshCloud({ faults: [{ kind: "bootError", status: 503 }] });
    const first = (await boot(cloud, s, "x")).status;
    cloud.reset();
    const again = await FakeSession.login(BASE, cloud.fetch);
    expect([first, (await boot(cloud, again, "x")).status]).toEqual([503, 503]);
  });
});

describe("token revocation", () => {
  it("revokeTokens makes existing tokens answer 401; a new login works", async () => {
    const { cloud, s } = await freshCloud();
    cloud.addFault({ kind: "revokeTokens" });
    expect((await s.nova("GET", "/servers")).status).toBe(401);
    const again = await FakeSession.login(BASE, cloud.fetch);
    expect((await again.nova("GET", "/servers")).status).toBe(200);
  });

  it("revokeTokens with afterRequests lets that many requests through first", async () => {
    const { cloud, s } = await freshCloud();
    cloud.addFault({ kind: "revokeTokens", afterRequests: 3 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await s.nova("GET", "/servers")).status);
    expect(statuses).toEqual([200, 200, 401, 401]);
  });

  it("expires tokens after tokenTtlMs on the virtual clock", async () => {
    const { cloud, s } = await freshCloud({ tokenTtlMs: 60_000 });
    cloud.advance(60_000);
    expect((await s.nova("GET", "/servers")).status).toBe(401);
  });
});

describe("stats", () => {
  it("counts requests per service and route, ids shown as {id}", async () => {
    const { cloud, s } = await freshCloud();
    const id = obj(await boot(cloud, s, "counted")).server.id as string;
    await s.nova("GET", `/servers/${id}`);
    await s.nova("GET", `/servers/${id}`);
    const stats = cloud.stats();
    expect(stats.byRoute["GET /compute/v2.1/servers/{id}"]).toBe(2);
    expect(stats.byRoute["POST /compute/v2.1/servers"]).toBe(1);
    expect(stats.byService).toEqual({ identity: 1, compute: 3 });
  });

  it("does not count control API calls", async () => {
    const { cloud } = await freshCloud();
    cloud.resetStats();
    await cloud.fetch(`${BASE}/_fake/servers`);
    expect(cloud.stats().total).toBe(0);
  });
});
