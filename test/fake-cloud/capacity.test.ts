// The fake cloud's capacity: per-flavor limits, a host pool, and the NoValidHost fault, each as real Nova shows it.
import { describe, expect, it } from "vitest";
import { NO_VALID_HOST } from "./capacity.ts";
import { BASE, boot, freshCloud, obj, statusOf } from "./testing.ts";

const BUILD_MS = 1000;

async function showByName(s: Awaited<ReturnType<typeof freshCloud>>["s"], name: string): Promise<Record<string, any>> {
  const list = obj(await s.nova("GET", "/servers/detail")).servers as Array<Record<string, any>>;
  const found = list.find((x) => x.name === name);
  if (found === undefined) throw new Error(`no server ${name}`);
  // GET /servers/{id}: a server the scheduler could not place is in cell0, whose faults the listing does not show.
  return obj(await s.nova("GET", `/servers/${found.id}`)).server as Record<string, any>;
}

describe("per-flavor capacity", () => {
  it("a boot beyond a flavor's capacity is accepted (202), then goes to ERROR with Nova's NoValidHost fault", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS, capacity: { "m1.tiny": 1 } });
    const first = await boot(cloud, s, "a");
    const second = await boot(cloud, s, "b");
    cloud.advance(BUILD_MS);
    const b = await showByName(s, "b");
    expect([first.status, second.status, statusOf(cloud, "a"), b.status]).toEqual([202, 202, "ACTIVE", "ERROR"]);
    expect(b.fault).toEqual({ code: 500, created: expect.any(String), message: NO_VALID_HOST });
  });

  it("a server without a host shows no host id, no zone and no addresses, like Nova's cell0 instances", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS, capacity: { "m1.tiny": 0 } });
    await boot(cloud, s, "b", { networks: "auto" });
    cloud.advance(BUILD_MS);
    const b = await showByName(s, "b");
    expect([b.hostId, b["OS-EXT-AZ:availability_zone"], b.addresses, b["OS-EXT-STS:vm_state"], b["OS-EXT-STS:task_state"]]).toEqual(["", "", {}, "error", null]);
  });

  it("capacity applies per flavor: another flavor still boots", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS, capacity: { "m1.tiny": 0 } });
    await boot(cloud, s, "small", { flavorRef: "2" });
    cloud.advance(BUILD_MS);
    expect(statusOf(cloud, "small")).toBe("ACTIVE");
  });

  it("a multi-create that does not fit whole fails whole, as Nova's scheduler does", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS, capacity: { "m1.tiny": 2 } });
    await boot(cloud, s, "m", { min_count: 3, max_count: 3 });
    cloud.advance(BUILD_MS);
    expect(["m-1", "m-2", "m-3"].map((n) => statusOf(cloud, n))).toEqual(["ERROR", "ERROR", "ERROR"]);
  });

  it("a deleted server gives its place back", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS, deleteMs: 0, capacity: { "m1.tiny": 1 } });
    await boot(cloud, s, "a");
    const a = [...cloud.servers.values()].find((x) => x.name === "a");
    await s.nova("DELETE", `/servers/${a?.id}`);
    await boot(cloud, s, "b");
    cloud.advance(BUILD_MS);
    expect(statusOf(cloud, "b")).toBe("ACTIVE");
  });

  it("a server in ERROR for want of a host holds no place", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS, capacity: { "m1.tiny": 1 } });
    cloud.addFault({ kind: "noValidHost", times: 1 });
    await boot(cloud, s, "a");
    await boot(cloud, s, "b");
    cloud.advance(BUILD_MS);
    expect([statusOf(cloud, "a"), statusOf(cloud, "b")]).toEqual(["ERROR", "ACTIVE"]);
  });

  it("capacity can be named by flavor id as well as by name", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS, capacity: { "1": 0 } });
    await boot(cloud, s, "a");
    cloud.advance(BUILD_MS);
    expect(statusOf(cloud, "a")).toBe("ERROR");
  });
});

describe("host pool", () => {
  it("a flavor larger than every host never fits (m1.large, 8 GB, on 4 GB hosts)", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS, hosts: { count: 3, vcpus: 8, ramMB: 4096 } });
    await boot(cloud, s, "large", { flavorRef: "4" });
    await boot(cloud, s, "medium", { flavorRef: "3" });
    cloud.advance(BUILD_MS);
    expect([statusOf(cloud, "large"), statusOf(cloud, "medium")]).toEqual(["ERROR", "ACTIVE"]);
  });

  it("servers fill the hosts: two m1.medium (4 GB) fill two 4 GB hosts, a third finds no room", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS, hosts: { count: 2, vcpus: 8, ramMB: 4096 } });
    for (const name of ["a", "b", "c"]) await boot(cloud, s, name, { flavorRef: "3" });
    cloud.advance(BUILD_MS);
    expect(["a", "b", "c"].map((n) => statusOf(cloud, n))).toEqual(["ACTIVE", "ACTIVE", "ERROR"]);
    expect([...cloud.servers.values()].map((x) => x.host ?? null)).toEqual(["compute-1", "compute-2", null]);
  });

  it("vCPUs bind as well as RAM", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS, hosts: { count: 1, vcpus: 3, ramMB: 65536 } });
    await boot(cloud, s, "a", { flavorRef: "3" });
    await boot(cloud, s, "b", { flavorRef: "3" });
    cloud.advance(BUILD_MS);
    expect([statusOf(cloud, "a"), statusOf(cloud, "b")]).toEqual(["ACTIVE", "ERROR"]);
  });

  it("disk binds when the pool states it", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS, hosts: { count: 1, vcpus: 64, ramMB: 65536, diskGB: 30 } });
    await boot(cloud, s, "a", { flavorRef: "2" });
    await boot(cloud, s, "b", { flavorRef: "2" });
    cloud.advance(BUILD_MS);
    expect([statusOf(cloud, "a"), statusOf(cloud, "b")]).toEqual(["ACTIVE", "ERROR"]);
  });

  it("seeded servers take their place in the pool", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS, hosts: { count: 1, vcpus: 8, ramMB: 4096 } });
    cloud.seedServer({ name: "stranger", flavor: "m1.medium" });
    await boot(cloud, s, "a", { flavorRef: "2" });
    cloud.advance(BUILD_MS);
    expect(statusOf(cloud, "a")).toBe("ERROR");
  });
});

describe("capacity over the control API", () => {
  it("PUT /_fake/capacity sets a flavor's capacity at run time; GET reads it back", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS });
    const put = await cloud.fetch(`${BASE}/_fake/capacity`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ flavors: { "m1.tiny": 0 } }) });
    await boot(cloud, s, "a");
    cloud.advance(BUILD_MS);
    const got = await (await cloud.fetch(`${BASE}/_fake/capacity`)).json();
    expect([put.status, statusOf(cloud, "a"), got]).toEqual([200, "ERROR", { flavors: { "m1.tiny": 0 } }]);
  });

  it("null clears a limit: the cloud has room again", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS, capacity: { "m1.tiny": 0 } });
    cloud.setCapacity({ flavors: null });
    await boot(cloud, s, "a");
    cloud.advance(BUILD_MS);
    expect(statusOf(cloud, "a")).toBe("ACTIVE");
  });

  it("a malformed capacity body is a 400 and changes nothing", async () => {
    const { cloud } = await freshCloud({ capacity: { "m1.tiny": 1 } });
    const put = await cloud.fetch(`${BASE}/_fake/capacity`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ flavors: { "m1.tiny": -1 } }) });
    expect([put.status, cloud.capacity.flavors]).toEqual([400, { "m1.tiny": 1 }]);
  });

  it("/_fake/servers shows each server's host and fault", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS, capacity: { "m1.tiny": 1 } });
    await boot(cloud, s, "a");
    await boot(cloud, s, "b");
    cloud.advance(BUILD_MS);
    const listed = (await (await cloud.fetch(`${BASE}/_fake/servers`)).json()) as { servers: Array<{ name: string; host: string | null; fault: string | null }> };
    expect(listed.servers.map((x) => [x.name, x.host, x.fault])).toEqual([
      ["a", "compute-1", null],
      ["b", null, NO_VALID_HOST],
    ]);
  });
});

describe("noValidHost fault", () => {
  it("the boot is accepted and the server goes to ERROR with NoValidHost after half the build time", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS });
    cloud.addFault({ kind: "noValidHost", times: 1 });
    const res = await boot(cloud, s, "a");
    cloud.advance(BUILD_MS / 2 - 1);
    const before = statusOf(cloud, "a");
    cloud.advance(1);
    expect([res.status, before, statusOf(cloud, "a"), (await showByName(s, "a")).fault.message]).toEqual([202, "BUILD", "ERROR", NO_VALID_HOST]);
  });

  it("applies only to servers whose name matches serverName", async () => {
    const { cloud, s } = await freshCloud({ buildMs: BUILD_MS });
    cloud.addFault({ kind: "noValidHost", serverName: "^db" });
    await boot(cloud, s, "web");
    await boot(cloud, s, "db");
    cloud.advance(BUILD_MS);
    expect([statusOf(cloud, "web"), statusOf(cloud, "db")]).toEqual(["ACTIVE", "ERROR"]);
  });
});
