// Real Nova: the labels every novascale server is booted with (tags, description), personality files below 2.57, and access IPs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverLabels } from "../../../src/core/model/membership.ts";
import { OpenStackError, type OpenStackComputeCloud } from "../../../src/openstack/index.ts";
import { type Devcloud, type NovaServer, testName } from "../support/devcloud.ts";
import { failure, openCloud, rawCloud } from "./cloud.ts";

const prefix = testName("lbl");
let cloud: OpenStackComputeCloud;
let raw: Devcloud;
let imageId: string;
let flavorId: string;

beforeAll(async () => {
  cloud = openCloud();
  raw = await rawCloud();
  imageId = (await cloud.resolveImage("cirros-fake")).id;
  flavorId = (await cloud.resolveFlavor("m1.tiny")).id;
});

afterAll(async () => {
  await (await rawCloud()).sweep(prefix);
});

/** GET /servers/detail with a query, as `openstack server list --tags ...` sends it. */
async function listWith(query: string): Promise<NovaServer[]> {
  const res = await raw.call("GET", `/servers/detail?${query}`);
  expect(res.status).toBe(200);
  return (res.body as { servers: NovaServer[] }).servers;
}

describe("labels: who manages a server, for `openstack server list --tags` and Horizon (issue 27 item 10)", () => {
  // The group name of the test: a real group's servers would be named and labelled the same way.
  const group = `${prefix}-web`;
  let ids: string[] = [];

  beforeAll(async () => {
    // The boot the Worker sends (execute-steps.ts bootSpec): group metadata for membership, labels beside it.
    const booted = await cloud.boot({ name: `${group}-a1`, imageId, flavorId, metadata: { "novascale:group": group }, networks: "none", count: 2, labels: serverLabels(group) });
    expect(booted.serverIds).toHaveLength(1);
    const mine = await raw.serversWithMetadata("novascale:group", group);
    ids = mine.map((s) => s.id);
    await Promise.all(ids.map((id) => raw.waitServerStatus(id, "ACTIVE")));
  });

  it("both servers of one multi-create are listed by the group's tag (GET /servers/detail?tags=novascale:<group>)", async () => {
    const listed = await listWith(`tags=${encodeURIComponent(`novascale:${group}`)}`);
    expect(listed.map((s) => s.id).sort()).toEqual([...ids].sort());
  });

  it("every novascale server is listed by the tag `novascale`", async () => {
    const listed = await listWith("tags=novascale");
    expect(listed.map((s) => s.id)).toEqual(expect.arrayContaining(ids));
  });

  it("each carries exactly the two tags and the description 'managed by novascale group <group>'", async () => {
    for (const id of ids) {
      const server = await raw.server(id);
      expect((server?.["tags"] as string[]).sort()).toEqual(["novascale", `novascale:${group}`]);
      expect(server?.["description"]).toBe(`managed by novascale group ${group}`);
    }
  });

  it("at 2.40 (no tags at boot) the same boot succeeds with the description only", async () => {
    const old = openCloud({ microversion: "2.40" });
    const name = `${prefix}-mv240`;
    await old.boot({ name, imageId, flavorId, metadata: { "novascale:group": name }, networks: "none", count: 1, labels: serverLabels(name) });
    const [server] = await raw.serversWithMetadata("novascale:group", name);
    const active = await raw.waitServerStatus(server!.id, "ACTIVE");
    expect(active["description"]).toBe(`managed by novascale group ${name}`);
    expect(active["tags"]).toEqual([]);
  });
});

describe("personality files below 2.57 (issue 27 item 9)", () => {
  it("a boot at 2.56 with two files is accepted and the server becomes ACTIVE", async () => {
    const old = openCloud({ microversion: "2.56" });
    const result = await old.nova.servers.create({
      name: `${prefix}-files`, imageRef: imageId, flavorRef: flavorId, networks: "none",
      personality: [{ path: "/etc/motd", contents: "managed by novascale\n" }, { path: "/etc/novascale/group", contents: "web" }],
    });
    expect((await raw.waitServerStatus(result.id!, "ACTIVE")).name).toBe(`${prefix}-files`);
  });

  it("a rebuild at 2.56 with a file comes back ACTIVE", async () => {
    const old = openCloud({ microversion: "2.56" });
    const booted = await old.nova.servers.create({ name: `${prefix}-refile`, imageRef: imageId, flavorRef: flavorId, networks: "none" });
    await raw.waitServerStatus(booted.id!, "ACTIVE");
    await old.nova.servers.rebuild(booted.id!, { imageRef: imageId, personality: [{ path: "/etc/motd", contents: "rebuilt" }] });
    expect((await raw.waitServerStatus(booted.id!, "ACTIVE")).id).toBe(booted.id);
  });

  it("more files than the project's injected_files quota (5): Nova's 403 'Personality file limit exceeded' is config, not auth or quota", async () => {
    const old = openCloud({ microversion: "2.56" });
    const files = Array.from({ length: 6 }, (_, i) => ({ path: `/etc/f${i}`, contents: "x" }));
    const e = await failure(old.nova.servers.create({ name: `${prefix}-toomany`, imageRef: imageId, flavorRef: flavorId, networks: "none", personality: files }));
    expect(e).toBeInstanceOf(OpenStackError);
    expect(e).toMatchObject({ status: 403, category: "config", detail: expect.stringContaining("Personality file limit exceeded") });
  });

  it("a file path over injected_file_path_bytes (255): 403 'Personality file path exceeds maximum', config", async () => {
    const old = openCloud({ microversion: "2.56" });
    const e = await failure(old.nova.servers.create({ name: `${prefix}-longpath`, imageRef: imageId, flavorRef: flavorId, networks: "none", personality: [{ path: `/${"p".repeat(300)}`, contents: "x" }] }));
    expect(e).toMatchObject({ status: 403, category: "config", detail: expect.stringContaining("Personality file path exceeds maximum") });
  });
});

describe("access IPs (issue 27 item 9)", () => {
  let id: string;

  beforeAll(async () => {
    const result = await cloud.nova.servers.create({ name: `${prefix}-access`, imageRef: imageId, flavorRef: flavorId, networks: "none", accessIPv4: "203.0.113.10", accessIPv6: "2001:db8::10" });
    id = result.id!;
    await raw.waitServerStatus(id, "ACTIVE");
  });

  it("given at boot, Nova keeps them as sent", async () => {
    const server = await cloud.nova.servers.get(id);
    expect([server.accessIPv4, server.accessIPv6]).toEqual(["203.0.113.10", "2001:db8::10"]);
  });

  it("PUT /servers/{id} changes them and answers the server with the new ones", async () => {
    const updated = await cloud.nova.servers.update(id, { accessIPv4: "203.0.113.11", accessIPv6: "2001:db8::11" });
    expect([updated.accessIPv4, updated.accessIPv6]).toEqual(["203.0.113.11", "2001:db8::11"]);
    const shown = await raw.server(id);
    expect([shown?.["accessIPv4"], shown?.["accessIPv6"]]).toEqual(["203.0.113.11", "2001:db8::11"]);
  });

  it("a rebuild sets them too", async () => {
    await cloud.nova.servers.rebuild(id, { imageRef: imageId, accessIPv4: "203.0.113.12" });
    const rebuilt = await raw.waitServerStatus(id, "ACTIVE");
    expect(rebuilt["accessIPv4"]).toBe("203.0.113.12");
  });

  it("an address that is not IPv4 is Nova's 400, config", async () => {
    const e = await failure(cloud.nova.servers.update(id, { accessIPv4: "not-an-ip" }));
    expect(e).toMatchObject({ status: 400, category: "config" });
  });
});
