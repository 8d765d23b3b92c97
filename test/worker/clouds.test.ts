// Two clouds from one deployment on the fake cloud: GET /v1/clouds (what ticks saw, no secrets) and isolation (a group acts only on its own cloud's servers).
import { inject } from "vitest";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import type { Env } from "../../src/config/env.ts";
import { BOOT_INTENT_KEY, GROUP_KEY } from "../../src/core/model/membership.ts";
import { createGroupService } from "../../src/reconcile/services/group-service.ts";
import { createPolicyService } from "../../src/reconcile/services/policy-service.ts";
import { SnapshotPolicyRulesSchema } from "../../src/config/snapshot-policy.ts";
import { collectMetrics } from "../../src/reconcile/services/metrics.ts";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import type { CloudView } from "../../src/reconcile/services/cloud-status.ts";
import type { ServerSnapshot } from "../fake-cloud/cloud.ts";
import { FakeCloudControl } from "../fake-cloud/control.ts";
import { forgetGroups, rules, START, world } from "./world.ts";

afterEach(forgetGroups);

const live = (s: ServerSnapshot) => s.taskState !== "deleting" && s.status !== "DELETED";

/** A clouds.yaml entry for a fake cloud (its demo user); `password` to break it. */
export function fakeCloudEntry(authUrl: string, password = "demo-password") {
  return { auth: { auth_url: authUrl, username: "demo", password, project_name: "demo", user_domain_name: "Default", project_domain_name: "Default" }, region_name: "RegionOne" };
}

/** The world's cloud as `default` (OS_*) and a second fake cloud as `east` (NOVASCALE_CLOUDS). */
async function twoClouds() {
  const w = await world();
  const east = await FakeCloudControl.isolated(inject("fakeCloudUrl"), { clock: "manual", startAt: START, buildMs: 20_000, deleteMs: 5_000 });
  const workerEnv: Env = { ...w.workerEnv, NOVASCALE_CLOUDS: JSON.stringify({ clouds: { east: fakeCloudEntry(east.authUrl) } }) };
  const service = createGroupService(workerEnv);
  const tick = async (at: string, tickEnv: Env = workerEnv) => {
    await east.setTime(at);
    await w.tick(at, tickEnv);
  };
  return { ...w, east, workerEnv, service, tick };
}

async function getClouds(workerEnv: Env): Promise<{ clouds: CloudView[]; tickAt: string | null }> {
  const app = createApp({ service: (e) => createGroupService(e) });
  const res = await app.request("http://novascale.test/v1/clouds", { headers: { Authorization: "Bearer read-token-for-tests" } }, workerEnv);
  expect(res.status).toBe(200);
  return (await res.json()) as { clouds: CloudView[]; tickAt: string | null };
}

describe("GET /v1/clouds", () => {
  it("lists each cloud-region with its groups; unknown before a tick, then up with token expiry and discovery, and no secret", async () => {
    const { service, tick, workerEnv } = await twoClouds();
    await service.putGroup("cl-west", rules({ default: 1 }), { author: "alice" });
    await service.putGroup("cl-east", rules({ default: 1, cloud: "east" }), { author: "alice" });
    const before = await getClouds(workerEnv);
    const east = before.clouds.find((c) => c.name === "east");
    expect(east).toMatchObject({ region: "RegionOne", source: "NOVASCALE_CLOUDS", identityVersion: "3", interface: "public", groups: ["cl-east"] });
    expect(before.clouds.find((c) => c.name === "default")?.groups).toEqual(["cl-west"]);
    expect(east?.state).toBe("unknown");

    await tick("2026-11-26T08:00:00.000Z");
    const after = await getClouds(workerEnv);
    for (const name of ["default", "east"]) {
      const c = after.clouds.find((x) => x.name === name);
      expect(c?.state).toBe("up");
      expect(c?.lastSuccessAt).toBe("2026-11-26T08:00:00.000Z");
      expect(Date.parse(c?.tokenExpiresAt ?? "")).toBeGreaterThan(0);
      expect(c?.discovery?.computeEndpoint).toMatch(/^http/);
      expect(c?.discovery?.computeMicroversion).toMatch(/^2\.\d+$/);
    }
    const text = JSON.stringify(after);
    expect(text).not.toContain("demo-password");
  });

  it("shows a cloud whose Keystone refuses it as down, with the last error and its time, and keeps the last success", async () => {
    const { service, tick, workerEnv, east } = await twoClouds();
    await service.putGroup("cl-down", rules({ default: 0, cloud: "east" }), { author: "alice" });
    await tick("2026-11-26T08:00:00.000Z");
    // The password is changed and the cached token revoked: the next tick's listing gets 401, its re-authentication 401 too.
    const broken: Env = { ...workerEnv, NOVASCALE_CLOUDS: JSON.stringify({ clouds: { east: fakeCloudEntry(east.authUrl, "wrong-password") } }) };
    await east.addFault({ kind: "revokeTokens" });
    await tick("2026-11-26T08:01:00.000Z", broken);
    const c = (await getClouds(broken)).clouds.find((x) => x.name === "east");
    expect(c?.state).toBe("down");
    expect(c?.lastError?.at).toBe("2026-11-26T08:01:00.000Z");
    expect(c?.lastSuccessAt).toBe("2026-11-26T08:00:00.000Z");
    expect(JSON.stringify(c)).not.toContain("wrong-password");
  });
});

describe("two clouds, the same group tag in each", () => {
  it("each group acts only on its own cloud's servers, even when the other cloud has servers with its tag", async () => {
    const { service, tick, cloud, east } = await twoClouds();
    // Servers with the groups' tags in the other cloud: another deployment's, never ours to count or delete.
    for (let i = 0; i < 3; i++) await east.seedServer({ name: `iso-web-east-${i}`, status: "ACTIVE", metadata: { [GROUP_KEY]: "iso-web", [BOOT_INTENT_KEY]: "seeded" } });
    for (let i = 0; i < 2; i++) await cloud.seedServer({ name: `iso-api-west-${i}`, status: "ACTIVE", metadata: { [GROUP_KEY]: "iso-api", [BOOT_INTENT_KEY]: "seeded" } });
    await service.putGroup("iso-web", rules({ min: 0, default: 1 }), { author: "alice" });
    await service.putGroup("iso-api", rules({ min: 0, default: 0, cloud: "east" }), { author: "alice" });
    const eastBefore = (await east.servers()).map((s) => s.id).sort();
    const westApi = (await cloud.servers()).filter((s) => s.metadata[GROUP_KEY] === "iso-api").map((s) => s.id).sort();
    for (const at of ["2026-11-26T08:00:00.000Z", "2026-11-26T08:01:00.000Z", "2026-11-26T08:02:00.000Z"]) await tick(at);
    // iso-web (default) booted its one server in its own cloud, not deterred by the three tagged servers in east.
    expect((await cloud.servers()).filter((s) => s.metadata[GROUP_KEY] === "iso-web" && live(s))).toHaveLength(1);
    // iso-api (east, desired 0) deleted nothing in default; east's servers are all still there and live.
    expect((await cloud.servers()).filter((s) => s.metadata[GROUP_KEY] === "iso-api" && live(s)).map((s) => s.id).sort()).toEqual(westApi);
    expect((await east.servers()).filter(live).map((s) => s.id).sort()).toEqual(eastBefore);
  });
});

describe("moving a group to another cloud", () => {
  it("is refused with 409 naming the field while the group has members, and the rules stay; allowed once it has none", async () => {
    const { service, tick, workerEnv, cloud } = await twoClouds();
    const app = createApp({ service: (e) => createGroupService(e) });
    const call = (method: string, path: string, body?: unknown) =>
      app.request(
        `http://novascale.test${path}`,
        { method, headers: { Authorization: "Bearer admin-token-for-tests", "Content-Type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
        workerEnv,
      );
    await service.putGroup("mv-web", rules({ min: 0, default: 1 }), { author: "alice" });
    await tick("2026-11-26T08:00:00.000Z");
    expect((await cloud.servers()).filter((s) => s.metadata[GROUP_KEY] === "mv-web" && live(s))).toHaveLength(1);

    const refused = await call("PUT", "/v1/groups/mv-web", { ...rules({ min: 0, default: 1 }), cloud: "east" });
    expect(refused.status).toBe(409);
    const body = (await refused.json()) as { error: { code: string; message: string; details?: { field?: string; count?: number } } };
    expect(body.error.code).toBe("conflict");
    expect(body.error.details).toMatchObject({ field: "cloud", count: 1 });
    const kept = (await (await call("GET", "/v1/groups/mv-web")).json()) as { cloud: string };
    expect(kept.cloud).toBe("default");

    // A merge patch is the same write: refused too.
    const patched = await app.request(
      "http://novascale.test/v1/groups/mv-web",
      { method: "PATCH", headers: { Authorization: "Bearer admin-token-for-tests", "Content-Type": "application/merge-patch+json", "If-Match": "*" }, body: JSON.stringify({ cloud: "east" }) },
      workerEnv,
    );
    expect(patched.status).toBe(409);

    // Scaled to zero and its server gone: the move is allowed.
    await service.putGroup("mv-web", rules({ min: 0, default: 0 }), { author: "alice" });
    for (const at of ["2026-11-26T08:01:00.000Z", "2026-11-26T08:02:00.000Z", "2026-11-26T08:03:00.000Z"]) await tick(at);
    expect((await cloud.servers()).filter((s) => s.metadata[GROUP_KEY] === "mv-web" && live(s))).toHaveLength(0);
    expect((await call("PUT", "/v1/groups/mv-web", { ...rules({ min: 0, default: 0 }), cloud: "east" })).status).toBe(200);
  });
});

describe("GET /v1/groups/{name}", () => {
  it("shows the cloud and region the group runs in, defaults filled in", async () => {
    const { service, workerEnv } = await twoClouds();
    await service.putGroup("st-west", rules({ default: 0 }), { author: "alice" });
    await service.putGroup("st-east", rules({ default: 0, cloud: "east" }), { author: "alice" });
    const app = createApp({ service: (e) => createGroupService(e) });
    const read = async (name: string) =>
      (await (await app.request(`http://novascale.test/v1/groups/${name}`, { headers: { Authorization: "Bearer read-token-for-tests" } }, workerEnv)).json()) as { cloud: string; region: string | null };
    expect(await read("st-west")).toMatchObject({ cloud: "default", region: null });
    expect(await read("st-east")).toMatchObject({ cloud: "east", region: "RegionOne" });
  });
});

describe("GET /v1/snapshot-policies/{name}", () => {
  it("shows the cloud and region the policy runs in, defaults filled in, as a group's status does", async () => {
    const { workerEnv } = await twoClouds();
    const policies = createPolicyService(workerEnv);
    const base = { select: { group: "any" }, cron: "0 3 * * *", timezone: "UTC", retention: { keepLast: 2 } };
    await policies.put("sp-west", SnapshotPolicyRulesSchema.parse(base), { author: "alice" });
    await policies.put("sp-east", SnapshotPolicyRulesSchema.parse({ ...base, cloud: "east" }), { author: "alice" });
    const app = createApp({ service: (e) => createGroupService(e), policies: (e) => createPolicyService(e) });
    const read = async (name: string) =>
      (await (await app.request(`http://novascale.test/v1/snapshot-policies/${name}`, { headers: { Authorization: "Bearer read-token-for-tests" } }, workerEnv)).json()) as { cloud: string; region: string | null };
    expect(await read("sp-west")).toMatchObject({ cloud: "default", region: null });
    expect(await read("sp-east")).toMatchObject({ cloud: "east", region: "RegionOne" });
  });
});

describe("a snapshot policy selecting a group of another cloud", () => {
  async function setup() {
    const w = await twoClouds();
    const app = createApp({ service: (e) => createGroupService(e), policies: (e) => createPolicyService(e) });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await app.request(
        `http://novascale.test${path}`,
        { method, headers: { Authorization: "Bearer admin-token-for-tests", "Content-Type": "application/json" }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
        w.workerEnv,
      );
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    return { ...w, call };
  }
  const nightly = (extra: Record<string, unknown> = {}) => ({ select: { group: "pe-web" }, cron: "0 3 * * *", timezone: "UTC", retention: { keepLast: 2 }, ...extra });

  it("is refused with 409 naming the policy's `cloud` and what to set, and nothing is written", async () => {
    const { service, call } = await setup();
    await service.putGroup("pe-web", rules({ default: 0, cloud: "east" }), { author: "alice" });
    const refused = await call("PUT", "/v1/snapshot-policies/pe-nightly1", nightly());
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      error: {
        code: "conflict",
        message: `group 'pe-web' runs in cloud 'east', region 'RegionOne', the policy in cloud 'default': it would snapshot none of the group's servers; set "cloud": "east", "region": "RegionOne" in the policy`,
        details: { field: "cloud" },
      },
    });
    expect((await call("GET", "/v1/snapshot-policies/pe-nightly1")).status).toBe(404);
  });

  it("is accepted when it names the group's cloud, and its view has no mismatch", async () => {
    const { service, call } = await setup();
    await service.putGroup("pe-web", rules({ default: 0, cloud: "east" }), { author: "alice" });
    expect((await call("PUT", "/v1/snapshot-policies/pe-nightly2", nightly({ cloud: "east" }))).status).toBe(201);
    expect((await call("GET", "/v1/snapshot-policies/pe-nightly2")).body).toMatchObject({ cloud: "east", groupElsewhere: null });
  });

  it("a group that does not exist yet is no mismatch: the policy is written", async () => {
    const { call } = await setup();
    expect((await call("PUT", "/v1/snapshot-policies/pe-nightly3", nightly())).status).toBe(201);
  });

  it("moving the group away from its policy is written, strict or not, with a policy-elsewhere warning; the policy's view says it, until the policy follows", async () => {
    const { service, call } = await setup();
    await service.putGroup("pe-mover", rules({ default: 0, cloud: "east" }), { author: "alice" });
    expect((await call("PUT", "/v1/snapshot-policies/pe-nightly4", nightly({ cloud: "east", select: { group: "pe-mover" } }))).status).toBe(201);

    const moved = await call("PUT", "/v1/groups/pe-mover?strict=true", rules({ default: 0 }));
    expect(moved.status).toBe(200);
    expect(moved.body.warnings).toEqual([
      {
        field: "cloud",
        code: "policy-elsewhere",
        message: `snapshot policy 'pe-nightly4' selects this group: group 'pe-mover' runs in cloud 'default', the policy in cloud 'east', region 'RegionOne': it would snapshot none of the group's servers; set "cloud": "default" in the policy`,
      },
    ]);
    expect((await call("GET", "/v1/groups/pe-mover")).body).toMatchObject({ cloud: "default" });
    expect((await call("GET", "/v1/snapshot-policies/pe-nightly4")).body.groupElsewhere).toMatch(/^group 'pe-mover' runs in cloud 'default', the policy in cloud 'east'/);

    expect((await call("PUT", "/v1/snapshot-policies/pe-nightly4", nightly({ select: { group: "pe-mover" } }))).status).toBe(200);
    expect((await call("GET", "/v1/snapshot-policies/pe-nightly4")).body.groupElsewhere).toBeNull();
    expect((await call("PUT", "/v1/groups/pe-mover", rules({ default: 0 }))).body.warnings).toEqual([]);
  });
});

describe("GET /metrics with two clouds", () => {
  it("has per-cloud series (up, token expiry, last error and success) and cloud/region labels on the group series", async () => {
    const { service, tick, workerEnv } = await twoClouds();
    await service.putGroup("m-west", rules({ default: 1 }), { author: "alice" });
    await service.putGroup("m-east", rules({ default: 1, cloud: "east" }), { author: "alice" });
    await tick("2026-11-26T08:00:00.000Z");
    const app = createApp({ service: (e) => createGroupService(e), metrics: collectMetrics });
    const families = parsePrometheusTextFormat(await (await app.request("http://novascale.test/metrics", { headers: { Authorization: "Bearer read-token-for-tests" } }, workerEnv)).text());
    const sample = (name: string, labels: Record<string, string>) => families.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
    expect(sample("novascale_group_desired", { group: "m-east", cloud: "east", region: "RegionOne" })).toBe("1");
    expect(sample("novascale_group_desired", { group: "m-west", cloud: "default", region: "" })).toBe("1");
    expect(sample("novascale_cloud_up", { cloud: "east", region: "RegionOne" })).toBe("1");
    expect(sample("novascale_cloud_up", { cloud: "default", region: "" })).toBe("1");
    expect(Number(sample("novascale_cloud_token_expiry_seconds", { cloud: "east", region: "RegionOne" }))).toBeGreaterThan(0);
    expect(sample("novascale_cloud_last_success_timestamp_seconds", { cloud: "east", region: "RegionOne" })).toBe(String(Date.parse("2026-11-26T08:00:00.000Z") / 1000));
  });

  it("a failing cloud reads 0 with its last error's time, the other still 1", async () => {
    const { service, tick, workerEnv, east } = await twoClouds();
    const broken: Env = { ...workerEnv, NOVASCALE_CLOUDS: JSON.stringify({ clouds: { east: fakeCloudEntry(east.authUrl, "wrong-password") } }) };
    await service.putGroup("m2-west", rules({ default: 0 }), { author: "alice" });
    await service.putGroup("m2-east", rules({ default: 0, cloud: "east" }), { author: "alice" });
    await tick("2026-11-26T08:00:00.000Z", broken);
    const app = createApp({ service: (e) => createGroupService(e), metrics: collectMetrics });
    const families = parsePrometheusTextFormat(await (await app.request("http://novascale.test/metrics", { headers: { Authorization: "Bearer read-token-for-tests" } }, broken)).text());
    const sample = (name: string, labels: Record<string, string>) => families.find((f) => f.name === name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
    expect(sample("novascale_cloud_up", { cloud: "east", region: "RegionOne" })).toBe("0");
    expect(sample("novascale_cloud_last_error_timestamp_seconds", { cloud: "east", region: "RegionOne" })).toBe(String(Date.parse("2026-11-26T08:00:00.000Z") / 1000));
    expect(sample("novascale_cloud_up", { cloud: "default", region: "" })).toBe("1");
  });
});

describe("/openapi.json", () => {
  it("documents GET /v1/clouds with its response schema", async () => {
    const app = createApp({ service: (e) => createGroupService(e) });
    const doc = (await (await app.request("http://novascale.test/openapi.json", {}, (await world()).workerEnv)).json()) as { paths: Record<string, { get?: { responses?: Record<string, unknown> } }> };
    expect(JSON.stringify(doc.paths["/v1/clouds"]?.get?.responses?.["200"])).toContain("tokenExpiresAt");
  });
});
