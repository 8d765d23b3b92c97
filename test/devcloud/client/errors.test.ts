// Client conformance against the real Nova: how its error bodies map to the client's typed errors (config, quota, notFound).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenStackError, type OpenStackComputeCloud } from "../../../src/openstack/index.ts";
import { type Devcloud, testName } from "../support/devcloud.ts";
import { failure, openCloud, rawCloud } from "./cloud.ts";

const prefix = testName("err");
let cloud: OpenStackComputeCloud;
let raw: Devcloud;
let imageId: string;

beforeAll(async () => {
  cloud = openCloud();
  raw = await rawCloud();
  imageId = (await cloud.resolveImage("cirros-fake")).id;
});

afterAll(async () => {
  await (await rawCloud()).sweep(prefix);
});

function boot(overrides: { flavorId?: string; imageId?: string; networks?: "auto" | "none"; count?: number } = {}) {
  return cloud.boot({
    name: `${prefix}-boot`,
    imageId: overrides.imageId ?? imageId,
    flavorId: overrides.flavorId ?? "1",
    metadata: {},
    networks: overrides.networks ?? "none",
    count: overrides.count ?? 1,
  });
}

describe("Nova errors as typed client errors", () => {
  it("boot with a flavor Nova does not know: 400 badRequest, category config, Nova's message kept", async () => {
    const e = (await failure(boot({ flavorId: "no-such-flavor" }))) as OpenStackError;
    expect(e).toBeInstanceOf(OpenStackError);
    expect(e.status).toBe(400);
    expect(e.kind).toBe("badRequest");
    expect(e.category).toBe("config");
    expect(e.message).toContain("Flavor no-such-flavor could not be found");
  });

  it("boot with an image Nova cannot find: 400, category config", async () => {
    const e = (await failure(boot({ imageId: "00000000-0000-0000-0000-000000000000" }))) as OpenStackError;
    expect(e.status).toBe(400);
    expect(e.category).toBe("config");
    expect(e.message).toContain("Can not find requested image");
  });

  it("boot with networks auto when the project sees two networks: 409 conflictingRequest, Nova's message kept", async () => {
    const e = (await failure(boot({ networks: "auto" }))) as OpenStackError;
    expect(e.status).toBe(409);
    expect(e.kind).toBe("conflictingRequest");
    expect(e.message).toContain("Multiple possible networks found");
  });

  it("a boot beyond the instance quota: 403 forbidden, category quota, and nothing is booted", async () => {
    const limits = await cloud.absoluteLimits();
    const room = (limits.maxTotalInstances ?? 10) - limits.totalInstancesUsed;
    const e = (await failure(boot({ count: room + 1 }))) as OpenStackError;
    expect(e.status).toBe(403);
    expect(e.category).toBe("quota");
    expect(e.message).toContain("Quota exceeded for instances");
    expect((await raw.servers()).filter((s) => s.name.startsWith(prefix))).toEqual([]);
  });

  it("a server that does not exist: 404 itemNotFound, category notFound", async () => {
    const e = (await failure(cloud.nova.servers.get("00000000-0000-0000-0000-000000000000"))) as OpenStackError;
    expect(e.status).toBe(404);
    expect(e.kind).toBe("itemNotFound");
    expect(e.category).toBe("notFound");
  });

  it("the facade treats deleting a server that is already gone as done", async () => {
    await expect(cloud.deleteServer("00000000-0000-0000-0000-000000000000")).resolves.toBeUndefined();
  });

  it("an error never carries the token", async () => {
    const token = (await cloud.session.auth()).token;
    const e = (await failure(cloud.nova.servers.get("00000000-0000-0000-0000-000000000000"))) as OpenStackError;
    expect(`${e.message} ${JSON.stringify(e)}`).not.toContain(token);
  });
});
