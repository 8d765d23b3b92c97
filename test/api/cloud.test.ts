// Routes that talk to the cloud, through the real worker against the fake cloud: plan (dry run), reconcile, delete with servers.
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { createGroupService } from "../../src/reconcile/services/group-service.ts";
import { BOOT_INTENT_KEY, GROUP_KEY } from "../../src/core/model/membership.ts";
import { createGroup, rules, send, type ApiErrorBody } from "./support.ts";

const fakeCloud = inject("fakeCloudUrl");

interface FakeServer {
  id: string;
  name: string;
  status: string;
  metadata: Record<string, string>;
}

async function serversOf(group: string): Promise<FakeServer[]> {
  const res = await fetch(`${fakeCloud}/_fake/servers?project=demo`);
  const body = (await res.json()) as { servers: FakeServer[] };
  return body.servers.filter((s) => s.metadata[GROUP_KEY] === group && !["DELETED", "SOFT_DELETED"].includes(s.status));
}

async function seedServer(group: string, name: string, metadata: Record<string, string> = {}): Promise<FakeServer> {
  const res = await fetch(`${fakeCloud}/_fake/servers`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, metadata: { [GROUP_KEY]: group, ...metadata } }),
  });
  if (res.status !== 201) throw new Error(`seeding ${name}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { server: FakeServer }).server;
}

interface StepBody {
  kind: string;
  count?: number;
  serverId?: string;
  reason: string;
}
interface PlanBody {
  at: string;
  desired: { value: number; source: string };
  counted: number;
  listing: string;
  steps: StepBody[];
}
interface TickBody extends PlanBody {
  trigger: string;
  author: string;
  results: Array<{ step: StepBody; outcome: string; serverIds?: string[] }>;
  health: string;
}

describe("GET /v1/groups/{name}/plan", () => {
  it("lists the boots a tick would make, with reasons, and boots nothing", async () => {
    await createGroup("c-plan", rules({ default: 2 }));
    const activityBefore = await send<{ entries: unknown[] }>("GET", "/v1/groups/c-plan/activity", { as: "read" });
    const res = await send<PlanBody>("GET", "/v1/groups/c-plan/plan", { as: "read" });
    expect(res.status).toBe(200);
    expect(res.body.listing).toBe("complete");
    expect(res.body.desired.value).toBe(2);
    expect(res.body.steps).toEqual([expect.objectContaining({ kind: "boot", count: 2 })]);
    expect(res.body.steps[0]?.reason).not.toBe("");
    expect(await serversOf("c-plan")).toEqual([]);
    const activityAfter = await send<{ entries: unknown[] }>("GET", "/v1/groups/c-plan/activity", { as: "read" });
    expect(activityAfter.body.entries).toEqual(activityBefore.body.entries);
  });

  it("plans as of ?at=, where the schedule gives another count", async () => {
    // 4 from 08:00 UTC, 1 from 20:00 UTC.
    await createGroup("c-plan-at", rules({ default: 1, schedules: [{ cron: "0 8 * * *", desired: 4 }, { cron: "0 20 * * *", desired: 1 }] }));
    const day = await send<PlanBody>("GET", "/v1/groups/c-plan-at/plan?at=2030-06-01T09:00:00Z", { as: "read" });
    const night = await send<PlanBody>("GET", "/v1/groups/c-plan-at/plan?at=2030-06-01T21:00:00%2B00:00", { as: "read" });
    expect([day.body.desired.value, night.body.desired.value]).toEqual([4, 1]);
    expect(day.body.at).toBe("2030-06-01T09:00:00.000Z");
  });

  it("plans deletes of surplus servers, naming which", async () => {
    await createGroup("c-plan-del", rules({ default: 0 }));
    // Booted by novascale (its boot mark): a server tagged by hand is never deleted (test/api/adoption.test.ts).
    const seeded = await seedServer("c-plan-del", "c-plan-del-1", { [BOOT_INTENT_KEY]: "seeded" });
    const res = await send<PlanBody>("GET", "/v1/groups/c-plan-del/plan", { as: "read" });
    expect(res.body.steps).toEqual([expect.objectContaining({ kind: "delete", serverId: seeded.id })]);
    expect(await serversOf("c-plan-del")).toHaveLength(1);
  });

  it("answers 404 for a group that does not exist", async () => {
    expect((await send<ApiErrorBody>("GET", "/v1/groups/c-plan-missing/plan", { as: "read" })).status).toBe(404);
  });
});

describe("POST /v1/groups/{name}/reconcile", () => {
  it("runs the group's tick now: boots up to desired and returns steps and results", async () => {
    await createGroup("c-reconcile", rules({ default: 2 }));
    const res = await send<TickBody>("POST", "/v1/groups/c-reconcile/reconcile", { as: "operate" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ trigger: "manual", author: "test-operator" });
    expect(res.body.results).toEqual([expect.objectContaining({ outcome: "done", step: expect.objectContaining({ kind: "boot", count: 2 }) })]);
    expect(await serversOf("c-reconcile")).toHaveLength(2);
  });

  it("leaves the last tick in status and the boots in the activity log", async () => {
    await createGroup("c-reconcile-status", rules({ default: 1 }));
    await send("POST", "/v1/groups/c-reconcile-status/reconcile", { as: "operate", json: {} });
    const status = await send<{ lastTick: TickBody | null }>("GET", "/v1/groups/c-reconcile-status", { as: "read" });
    expect(status.body.lastTick?.trigger).toBe("manual");
    const activity = await send<{ entries: Array<{ kind: string; author: string }> }>("GET", "/v1/groups/c-reconcile-status/activity", { as: "read" });
    expect(activity.body.entries[0]).toMatchObject({ kind: "boot", author: "test-operator" });
  });

  it("does nothing a second time once actual equals desired (servers in BUILD count)", async () => {
    await createGroup("c-reconcile-twice", rules({ default: 2 }));
    await send("POST", "/v1/groups/c-reconcile-twice/reconcile", { as: "operate" });
    const second = await send<TickBody>("POST", "/v1/groups/c-reconcile-twice/reconcile", { as: "operate" });
    expect(second.body.steps).toEqual([]);
    expect(await serversOf("c-reconcile-twice")).toHaveLength(2);
  });

  it("takes no action on a paused group", async () => {
    await createGroup("c-reconcile-paused", rules({ default: 2 }));
    await send("POST", "/v1/groups/c-reconcile-paused/pause", { as: "operate" });
    const res = await send<TickBody>("POST", "/v1/groups/c-reconcile-paused/reconcile", { as: "operate" });
    expect(res.status).toBe(200);
    expect(res.body.steps).toEqual([]);
    expect(await serversOf("c-reconcile-paused")).toEqual([]);
  });

  it("answers 404 for a group that does not exist", async () => {
    expect((await send("POST", "/v1/groups/c-reconcile-missing/reconcile", { as: "operate" })).status).toBe(404);
  });
});

describe("DELETE /v1/groups/{name} with servers", () => {
  it("answers 409 while the group has servers, lists them, and keeps the rules", async () => {
    await createGroup("c-delete-busy");
    const seeded = await seedServer("c-delete-busy", "c-delete-busy-1");
    const res = await send<ApiErrorBody>("DELETE", "/v1/groups/c-delete-busy");
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("conflict");
    expect(res.body.error.details).toMatchObject({ servers: [expect.objectContaining({ id: seeded.id })] });
    expect((await send("GET", "/v1/groups/c-delete-busy", { as: "read" })).status).toBe(200);
  });

  it("with force=true removes only the rules and lists the servers left running", async () => {
    await createGroup("c-delete-forced");
    const seeded = await seedServer("c-delete-forced", "c-delete-forced-1");
    const res = await send<{ removed: boolean; serversLeftBehind: Array<{ id: string }> }>("DELETE", "/v1/groups/c-delete-forced?force=true");
    expect(res.status).toBe(200);
    expect(res.body.serversLeftBehind.map((s) => s.id)).toEqual([seeded.id]);
    expect((await send("GET", "/v1/groups/c-delete-forced", { as: "read" })).status).toBe(404);
    expect((await serversOf("c-delete-forced")).map((s) => s.id)).toEqual([seeded.id]);
  });

  it("deletes a group with no servers without force", async () => {
    await createGroup("c-delete-empty");
    const res = await send<{ removed: boolean }>("DELETE", "/v1/groups/c-delete-empty");
    expect([res.status, res.body.removed]).toEqual([200, true]);
  });
});

describe("when the cloud cannot answer", () => {
  // The real app and service, pointed at a Keystone that is not there: every cloud call fails.
  const app = createApp({ service: (e) => createGroupService(e) });
  const refused = { ...env, OS_AUTH_URL: `${fakeCloud}/no-such-cloud/identity/v3`, OS_PASSWORD: "not-the-password" };
  const call = (method: string, path: string) =>
    app.request(`http://novascale.test${path}`, { method, headers: { Authorization: "Bearer admin-token-for-tests" } }, refused);

  it("answers a plan with listing 'failed', the error, and no deletes", async () => {
    await createGroup("c-down-plan", rules({ default: 0 }));
    const res = await call("GET", "/v1/groups/c-down-plan/plan");
    const body = (await res.json()) as PlanBody & { errors: Array<{ operation: string; message: string }> };
    expect(res.status).toBe(200);
    expect(body.listing).toBe("failed");
    expect(body.errors.length).toBeGreaterThan(0);
    expect(body.steps.filter((s) => s.kind === "delete")).toEqual([]);
  });

  it("refuses a delete it cannot check with 503 and keeps the rules", async () => {
    await createGroup("c-down-delete");
    const res = await call("DELETE", "/v1/groups/c-down-delete");
    expect(res.status).toBe(503);
    expect((await send("GET", "/v1/groups/c-down-delete", { as: "read" })).status).toBe(200);
  });

  it("never echoes the password it was configured with", async () => {
    await createGroup("c-down-echo");
    const text = await (await call("GET", "/v1/groups/c-down-echo/plan")).text();
    expect(text).not.toContain("not-the-password");
  });
});
