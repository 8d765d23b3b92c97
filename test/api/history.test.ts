// GET /v1/groups/{name}/history and GET /v1/whoami through the real worker (shapes, roles, validation), and / without static assets.
import { describe, expect, it } from "vitest";
import { createGroup, send, type ApiErrorBody } from "./support.ts";

describe("GET /v1/whoami", () => {
  it("names the token and its role, for each role", async () => {
    for (const [as, name] of [["read", "test-reader"], ["operate", "test-operator"], ["admin", "test-admin"]] as const) {
      const res = await send<{ name: string; role: string }>("GET", "/v1/whoami", { as });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ name, role: as });
    }
  });

  it("answers 401 to an unknown token", async () => {
    const res = await send<ApiErrorBody>("GET", "/v1/whoami", { headers: { Authorization: "Bearer not-a-token-we-know" } });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toBe("unknown or revoked token");
  });
});

describe("GET /v1/groups/{name}/history", () => {
  it("answers the window and its points (none before the first tick) to a read token", async () => {
    await createGroup("hist-api");
    const res = await send<{ from: string; hours: number; points: unknown[] }>("GET", "/v1/groups/hist-api/history?hours=6", { as: "read" });
    expect(res.status).toBe(200);
    expect(res.body.hours).toBe(6);
    expect(Date.now() - Date.parse(res.body.from)).toBeGreaterThanOrEqual(6 * 3_600_000);
    expect(res.body.points).toEqual([]);
  });

  it("defaults to 48 hours", async () => {
    await createGroup("hist-default");
    const res = await send<{ hours: number }>("GET", "/v1/groups/hist-default/history");
    expect(res.body.hours).toBe(48);
  });

  it("refuses hours out of 1..336 naming the field", async () => {
    await createGroup("hist-bad");
    const res = await send<ApiErrorBody>("GET", "/v1/groups/hist-bad/history?hours=400");
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error.details)).toContain("hours");
  });

  it("answers 404 for an unknown group", async () => {
    expect((await send("GET", "/v1/groups/no-such-group/history")).status).toBe(404);
  });

  it("is in /openapi.json with its query and the whoami route", async () => {
    const doc = (await send<{ paths: Record<string, Record<string, { parameters?: { name: string }[] }>> }>("GET", "/openapi.json")).body;
    expect(doc.paths["/v1/groups/{name}/history"]?.["get"]?.parameters?.map((p) => p.name)).toEqual(["name", "hours"]);
    expect(doc.paths["/v1/whoami"]?.["get"]).toBeDefined();
  });
});

describe("GET / reaching the Worker", () => {
  it("says how to build the dashboard (static assets answer / when it is built)", async () => {
    const res = await send<ApiErrorBody>("GET", "/", { as: null });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("dashboard_not_built");
    expect(res.body.error.message).toContain("npm run build:dashboard");
  });
});
