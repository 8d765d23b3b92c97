// GET /v1/groups/{name}/plan says why nothing boots (noBootReasons), through the worker's API on a fake cloud of its own.
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { createGroupService } from "../../src/reconcile/services/group-service.ts";
import { FakeCloudControl } from "../fake-cloud/control.ts";
import { TOKENS } from "./support.ts";

interface Plan {
  steps: Array<{ kind: string; count?: number }>;
  noBootReasons: Array<{ code: string; message: string }>;
}

let cloud: FakeCloudControl;
let app: ReturnType<typeof createApp>;
let appEnv: typeof env;

beforeAll(async () => {
  cloud = await FakeCloudControl.isolated(inject("fakeCloudUrl"), { keypairs: ["ops"], quotas: { instances: 2 } });
  appEnv = { ...env, OS_AUTH_URL: cloud.authUrl };
  app = createApp({ service: (e) => createGroupService(e) });
});
afterAll(async () => {
  await cloud.dispose();
});

async function call<T>(method: string, path: string, json?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { Authorization: `Bearer ${TOKENS.admin}` };
  if (json !== undefined) headers["Content-Type"] = "application/json";
  const res = await app.request(path, { method, headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) }, appEnv);
  return { status: res.status, body: (await res.json()) as T };
}

const rules = (over: Record<string, unknown> = {}) => ({ image: "cirros", flavor: "m1.tiny", max: 10, default: 0, ...over });

describe("the dry run says why nothing boots", () => {
  it("a group that boots what is missing has no reasons", async () => {
    await call("PUT", "/v1/groups/pr-fine", rules({ default: 1 }));
    const plan = await call<Plan>("GET", "/v1/groups/pr-fine/plan");
    expect(plan.body.steps).toEqual([expect.objectContaining({ kind: "boot", count: 1 })]);
    expect(plan.body.noBootReasons).toEqual([]);
  });

  it("a paused group: paused, naming who paused it", async () => {
    await call("PUT", "/v1/groups/pr-paused", rules({ default: 2 }));
    await call("POST", "/v1/groups/pr-paused/pause", { reason: "maintenance" });
    const plan = await call<Plan>("GET", "/v1/groups/pr-paused/plan");
    expect(plan.body.noBootReasons).toEqual([{ code: "paused", message: expect.stringContaining("(maintenance)") }]);
  });

  it("a project out of instances: quota, with maxTotalInstances and its use", async () => {
    // Two servers of another group take the whole quota of 2.
    await cloud.seedServer({ name: "other-1" });
    await cloud.seedServer({ name: "other-2" });
    await call("PUT", "/v1/groups/pr-quota", rules({ default: 3 }));
    const plan = await call<Plan>("GET", "/v1/groups/pr-quota/plan");
    expect(plan.body.steps.filter((s) => s.kind === "boot")).toEqual([]);
    expect(plan.body.noBootReasons).toEqual([{ code: "quota", message: expect.stringContaining("instances 2 of 2 used (maxTotalInstances)") }]);
  });

  it("a boot Nova rejected (bad key pair): boot-blocked, quoting Nova", async () => {
    await call("PUT", "/v1/groups/pr-blocked", rules({ default: 1, keyName: "nope", max: 1 }));
    await cloud.setQuota("demo", { instances: 10 });
    await call("POST", "/v1/groups/pr-blocked/reconcile");
    const plan = await call<Plan>("GET", "/v1/groups/pr-blocked/plan");
    expect(plan.body.noBootReasons).toEqual([{ code: "boot-blocked", message: expect.stringContaining("Invalid key_name provided.") }]);
  });
});
