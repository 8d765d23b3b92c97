// PUT/PATCH of a group checks its image, flavor and key pair against the cloud: warnings, ?strict=true (422 / 503), bounded calls.
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { createGroupService } from "../../src/reconcile/services/group-service.ts";
import { REFERENCE_CHECK_REQUESTS } from "../../src/reconcile/services/reference-check.ts";
import { FakeCloudControl } from "../fake-cloud/control.ts";
import { TOKENS } from "./support.ts";

interface Warning {
  field: string;
  code: string;
  message: string;
}
interface WriteBody {
  name: string;
  etag: string;
  warnings: Warning[];
  error?: { code: string; message: string; details?: { warnings: Warning[] } };
}

let cloud: FakeCloudControl;
let app: ReturnType<typeof createApp>;
let appEnv: typeof env;

beforeAll(async () => {
  cloud = await FakeCloudControl.isolated(inject("fakeCloudUrl"), { keypairs: ["ops", "deploy"] });
  appEnv = { ...env, OS_AUTH_URL: cloud.authUrl };
  // A short check timeout, so the slow-cloud case takes a second instead of eight.
  app = createApp({ service: (e) => createGroupService(e, { referenceCheckMs: 1_500 }) });
});
afterAll(async () => {
  await cloud.dispose();
});

async function write(method: "PUT" | "PATCH", path: string, json: unknown, headers: Record<string, string> = {}) {
  const res = await app.request(
    path,
    {
      method,
      headers: { Authorization: `Bearer ${TOKENS.admin}`, "Content-Type": method === "PATCH" ? "application/merge-patch+json" : "application/json", ...headers },
      body: JSON.stringify(json),
    },
    appEnv,
  );
  return { status: res.status, body: (await res.json()) as WriteBody, etag: res.headers.get("ETag") };
}

async function getStatus(name: string): Promise<number> {
  return (await app.request(`/v1/groups/${name}`, { headers: { Authorization: `Bearer ${TOKENS.admin}` } }, appEnv)).status;
}

const good = { image: "cirros", flavor: "m1.tiny", keyName: "ops", max: 3, default: 0 };

describe("PUT /v1/groups/{name}: references checked against the cloud", () => {
  it("checks each flavor of a list and names the one the cloud lacks by its place (flavor.1)", async () => {
    const res = await write("PUT", "/v1/groups/ref-list", { ...good, flavor: ["m1.small", "m1.smal"] });
    expect(res.status).toBe(201);
    expect(res.body.warnings.map((w) => [w.field, w.code])).toEqual([["flavor.1", "not-found"]]);
    expect(res.body.warnings[0]?.message).toMatch(/did you mean "m1.small"/);
  });

  it("answers an empty warnings list when image, flavor and key pair all resolve", async () => {
    const res = await write("PUT", "/v1/groups/ref-good", good);
    expect(res.status).toBe(201);
    expect(res.body.warnings).toEqual([]);
  });

  it("stores a misspelled flavor (201) with a not-found warning naming the closest flavor", async () => {
    const res = await write("PUT", "/v1/groups/ref-flavor", { ...good, flavor: "m1.smal" });
    expect(res.status).toBe(201);
    expect(res.body.warnings).toEqual([{ field: "flavor", code: "not-found", message: expect.stringContaining('did you mean "m1.small"') }]);
    expect(await getStatus("ref-flavor")).toBe(200);
  });

  it("warns about an image name the cloud does not have, naming a close one", async () => {
    const res = await write("PUT", "/v1/groups/ref-image", { ...good, image: "cirros2" });
    expect(res.body.warnings).toEqual([{ field: "image", code: "not-found", message: expect.stringContaining('"cirros"') }]);
  });

  it("warns about an image given by an id that does not exist", async () => {
    const res = await write("PUT", "/v1/groups/ref-image-id", { ...good, image: { id: "0b5c4a5e-0000-4000-8000-00000000dead" } });
    expect(res.body.warnings).toEqual([{ field: "image", code: "not-found", message: expect.stringContaining("does not exist") }]);
  });

  it("warns about a key pair the user does not have (GET /os-keypairs/{name}), naming a close one", async () => {
    const res = await write("PUT", "/v1/groups/ref-key", { ...good, keyName: "opps" });
    expect(res.body.warnings).toEqual([{ field: "keyName", code: "not-found", message: expect.stringContaining('did you mean "ops"') }]);
  });

  it("lists one warning per bad reference, in field order", async () => {
    const res = await write("PUT", "/v1/groups/ref-all", { ...good, image: "nope-image", flavor: "m9.huge", keyName: "nokey" });
    expect(res.body.warnings.map((w) => w.field)).toEqual(["image", "flavor", "keyName"]);
  });

  it("checks a PATCH's merged rules the same way", async () => {
    const created = await write("PUT", "/v1/groups/ref-patch", good);
    const res = await write("PATCH", "/v1/groups/ref-patch", { flavor: "m1.smal" }, { "If-Match": created.etag ?? "" });
    expect(res.status).toBe(200);
    expect(res.body.warnings).toEqual([expect.objectContaining({ field: "flavor", code: "not-found" })]);
  });

  it("sends at most REFERENCE_CHECK_REQUESTS requests to the cloud for a write with three bad references", async () => {
    await cloud.resetStats();
    await write("PUT", "/v1/groups/ref-cost", { ...good, image: "nope-image", flavor: "m9.huge", keyName: "nokey" });
    expect((await cloud.stats()).total).toBeLessThanOrEqual(REFERENCE_CHECK_REQUESTS);
  });
});

describe("PUT /v1/groups/{name}?strict=true", () => {
  it("answers 422 with the warnings as the errors and stores nothing", async () => {
    const res = await write("PUT", "/v1/groups/ref-strict?strict=true", { ...good, flavor: "m1.smal" });
    expect(res.status).toBe(422);
    expect(res.body.error?.details?.warnings).toEqual([expect.objectContaining({ field: "flavor", code: "not-found" })]);
    expect(res.body.error?.message).toContain("flavor");
    expect(await getStatus("ref-strict")).toBe(404);
  });

  it("writes rules that resolve, as without strict", async () => {
    const res = await write("PUT", "/v1/groups/ref-strict-ok?strict=true", good);
    expect(res.status).toBe(201);
    expect(res.body.warnings).toEqual([]);
  });

  it("refuses a strict PATCH with a bad reference (422) and keeps the stored rules", async () => {
    const created = await write("PUT", "/v1/groups/ref-strict-patch", good);
    const res = await write("PATCH", "/v1/groups/ref-strict-patch?strict=true", { flavor: "m1.smal" }, { "If-Match": created.etag ?? "" });
    expect(res.status).toBe(422);
    const again = await write("PUT", "/v1/groups/ref-strict-patch", good);
    expect(again.etag).toBe(created.etag);
  });
});

describe("a cloud that cannot answer never blocks a write", () => {
  it("stores the rules with cloud-unreachable warnings when Nova answers 503", async () => {
    const fault = await cloud.addFault({ kind: "randomErrors", rate: 1, statuses: [503], service: "compute" });
    try {
      const res = await write("PUT", "/v1/groups/ref-down", good);
      expect(res.status).toBe(201);
      expect(res.body.warnings.map((w) => w.code)).toContain("cloud-unreachable");
      expect(res.body.warnings.every((w) => w.code === "cloud-unreachable")).toBe(true);
    } finally {
      await cloud.removeFault(fault);
    }
  });

  it("answers a strict write 503 naming the cause, storing nothing, when Nova answers 503", async () => {
    const fault = await cloud.addFault({ kind: "randomErrors", rate: 1, statuses: [503], service: "compute" });
    try {
      const res = await write("PUT", "/v1/groups/ref-down-strict?strict=true", good);
      expect(res.status).toBe(503);
      expect(res.body.error?.message).toMatch(/could not check/);
      expect(await getStatus("ref-down-strict")).toBe(404);
    } finally {
      await cloud.removeFault(fault);
    }
  });

  it("goes ahead after the check's time limit when the cloud is slow", async () => {
    const fault = await cloud.addFault({ kind: "slow", delayMs: 6_000, service: "compute" });
    try {
      const started = Date.now();
      const res = await write("PUT", "/v1/groups/ref-slow", good);
      expect(res.status).toBe(201);
      expect(res.body.warnings.map((w) => w.code)).toContain("cloud-unreachable");
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await cloud.removeFault(fault);
    }
  });
});
